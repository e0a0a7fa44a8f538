from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from tests.factories import AgencyFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _collected_static(django_db_blocker):
    """Collect static files as a deployment does, so pages use the hashed manifest."""
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", "--clear", verbosity=0)


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


def restore_reference_data() -> None:
    from django.apps import apps

    from assessments.instrument import sync_assessment_template
    from csf_portal.roles import sync_role_permissions
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


def signed_in_client(user) -> Client:
    """A client signed in with a verified second factor, as after a real sign-in."""
    client = Client()
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Test authenticator"}
    )
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


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The demo city (``seed_demo``), built once for the module that asks for it.

    It is built inside a transaction rolled back when the module ends; each test
    runs in its own savepoint within it, so tests cannot see each other's changes.
    """
    from django.core.management import call_command
    from django.db import transaction
    from django.test.utils import override_settings

    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        restore_reference_data()
        call_command("seed_demo", verbosity=0)
        yield
        transaction.set_rollback(True)
