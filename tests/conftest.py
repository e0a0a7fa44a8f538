from __future__ import annotations

import datetime
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.test.utils import override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal.history import acting_as, unattributed
from csf_portal.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from tests import history_guard, visibility_guard
from tests.factories import AgencyFactory, UserFactory

# Argon2 is the point in production and costs a tenth of a second a password; the
# suite makes thousands of users. tests/csf_portal/test_settings.py checks that
# production hashes with Argon2.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS).enable()

# Every history row written in this test process names its user, or is inside an
# explicit csf_portal.history.unattributed(reason) block (tests/history_guard.py).
# Connected on import, so session fixtures, every test and its teardown run under it.
history_guard.connect()
# Consent and sharing bases are written only through access.sharing_write, which keeps the
# case lists right in the same transaction (tests/visibility_guard.py).
visibility_guard.connect()


@pytest.fixture(autouse=True)
def _history_names_its_user():
    """Fail the test on a history row with no user, even where the code caught the error."""
    history_guard.refused.clear()
    yield
    refused, history_guard.refused[:] = list(history_guard.refused), []
    if refused:
        pytest.fail("History written with no user:\n" + "\n".join(refused), pytrace=False)


@pytest.fixture(autouse=True)
def _sharing_keeps_visibility():
    """Fail the test on consent or a sharing basis written outside access.sharing_write."""
    visibility_guard.refused.clear()
    yield
    refused, visibility_guard.refused[:] = list(visibility_guard.refused), []
    if refused:
        pytest.fail(
            "Sharing written around the access layer:\n" + "\n".join(refused), pytrace=False
        )


@pytest.fixture(scope="session", autouse=True)
def _collected_static(django_db_blocker):
    """Collect static files as a deployment does, so pages use the hashed manifest."""
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", "--clear", verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, built from the models, with the data migrations' reference rows.

    ``--no-migrations`` builds the schema in seconds; tests/test_migrations.py applies
    the migrations themselves to an empty database and compares.
    """
    with django_db_blocker.unblock():
        restore_reference_data()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Rows the data migrations create (roles, referral reasons, the assessment).

    Transactional tests flush every table afterwards, so later tests would find
    them missing: put them back when they are gone.
    """
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    restore_reference_data()


@unattributed("reference rows the data migrations make")
def restore_reference_data() -> None:
    from django.apps import apps

    from assessments.instrument import sync_assessment_template
    from csf_portal.roles import sync_role_permissions
    from csf_portal.system import sync_system_account
    from forums.models import Forum
    from forums.reference import sync_forums
    from referrals.taxonomy import sync_referral_reasons
    from reports.reference import sync_unit_costs

    if not Forum.objects.exists():
        sync_unit_costs(apps, None)
        sync_role_permissions(apps, None)
        sync_referral_reasons(apps, None)
        sync_assessment_template(apps, None)
        sync_forums(apps, None)
        sync_system_account(apps, None)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Lockout counters and cached sessions must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def practitioner(db, agency):
    return UserFactory(agency=agency)


def enrolment_code_entered(client: Client, user) -> None:
    """What a new user does before setting up their authenticator app: enter the one-time
    code an administrator issued them (issued here from the command line's path)."""
    from django.urls import reverse

    from csf_portal import services

    code = services.enrolment_code_issue(actor=None, user=user)
    response = client.post(reverse("mfa_enrol"), {"enrolment_code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].startswith(reverse("mfa_setup"))


def signed_in_client(user) -> Client:
    """A client signed in with a verified second factor, as after a real sign-in."""
    client = Client()
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Test authenticator"}
    )
    # Signing in saves the user (last_login): as a real sign-in, that is the user's own act.
    with acting_as(user):
        client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # As SignInView leaves it: started and just saved, so not due for renewal yet.
    session[SESSION_STARTED_KEY] = session[SESSION_RENEWED_KEY] = time.time()
    session.save()
    # Where roles and permissions are kept in Redis, the first page reads them into it:
    # read them now, so query budgets count a page's own queries (the cold read is
    # tested in tests/csf_portal/test_authz.py).
    # The same goes for the user's own row and devices.
    from csf_portal.authz import authz_for, user_for

    authz_for(type(user).objects.get(pk=user.pk))
    user_for(user.pk)
    return client


@pytest.fixture
def as_user():
    return signed_in_client


@pytest.fixture(autouse=True)
def _fresh_outcome_figures():
    """The dashboard keeps its figures in the cache; each test starts without them."""
    from reports.outcomes import figures_invalidate

    figures_invalidate()


class _DemoCity:
    """The demo city, built by ``seed_demo`` once per test process and kept as rows.

    Building it takes half a minute; putting its rows back takes a second or two.
    Each module that asks for the city gets the same one, as if ``seed_demo`` had
    just run, whichever module asks first.
    Modules that use it are marked ``xdist_group("demo_city")`` and ``make test``
    runs ``--dist loadgroup``, so one worker builds it and the others never need to.
    """

    tables: list[tuple[str, list[str], list[tuple]]] | None = None

    @classmethod
    def build_or_restore(cls) -> None:
        from django.core.management import call_command

        restore_reference_data()
        if cls.tables is None:
            call_command("seed_demo", verbosity=0)
            cls.tables = _rows_of_every_table()
        else:
            _put_back(cls.tables)


def demo_city() -> None:
    """Put the demo city in the open transaction, as ``seed_demo`` builds it."""
    _DemoCity.build_or_restore()


def _portal_tables() -> list[str]:
    from django.db import connection

    return sorted(
        name for name in connection.introspection.table_names() if name != "django_migrations"
    )


def _rows_of_every_table() -> list[tuple[str, list[str], list[tuple]]]:
    from django.db import connection

    kept = []
    with connection.cursor() as cursor:
        for table in _portal_tables():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - a table name Django lists
            columns = [c[0] for c in cursor.description]
            kept.append((table, columns, cursor.fetchall()))
    return kept


def _put_back(tables: list[tuple[str, list[str], list[tuple]]]) -> None:
    """Every table as it was kept, in the open transaction (constraints are deferred)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, _, _ in tables:
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
        for table, columns, rows in tables:
            if not rows:
                continue
            if connection.vendor == "sqlite":
                # Django's adapters cover dates and datetimes, not times of day.
                rows = [
                    tuple(
                        connection.ops.adapt_timefield_value(v)
                        if isinstance(v, datetime.time)
                        else v
                        for v in row
                    )
                    for row in rows
                ]
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})",  # noqa: S608
                rows,
            )
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The demo city (``seed_demo``), there for the module that asks for it.

    It is put in inside a transaction rolled back when the module ends; each test
    runs in its own savepoint within it, so tests cannot see each other's changes.
    """
    from django.db import transaction
    from django.test.utils import override_settings

    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        demo_city()
        yield
        transaction.set_rollback(True)
