"""The migrations, applied from nothing as on a new server.

The suite builds its test databases from the models (``--no-migrations``, a quarter
of a minute saved in every test process) and puts the reference data in with the
same functions the data migrations call (``tests/conftest.py``). This test applies
every migration to an empty database of the same kind, in a child process, and
checks it holds the same reference data as the suite's own.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tests.helpers import clean_env, run_manage, run_python

pytestmark = pytest.mark.django_db

CHILD = (
    "import json, django; django.setup(); "
    "from tests.test_migrations import reference_data; print(json.dumps(reference_data()))"
)


def reference_data() -> dict:
    """What the data migrations put in: forums, roles and their permissions, taxonomies."""
    from django.contrib.auth.models import Group

    from assessments.models import AssessmentTemplate, TemplateItem
    from csf_portal.models import User
    from csf_portal.system import SYSTEM_USERNAME
    from forums.models import Forum
    from referrals.models import ReferralReason
    from reports.models import UnitCost

    return {
        "forums": sorted(Forum.objects.values_list("kind", flat=True)),
        "roles": sorted(
            [g.name, sorted(g.permissions.values_list("codename", flat=True))]
            for g in Group.objects.filter(agency__isnull=True)
        ),
        "reasons": sorted(ReferralReason.objects.values_list("code", flat=True)),
        "templates": sorted(AssessmentTemplate.objects.values_list("version", flat=True)),
        "template items": TemplateItem.objects.count(),
        "unit costs": sorted(UnitCost.objects.values_list("item", flat=True)),
        "system account": [
            [u.username, u.is_active, u.has_usable_password(), u.groups.count()]
            for u in User.objects.filter(username=SYSTEM_USERNAME)
        ],
    }


def _empty_database(tmp_path) -> tuple[str, object]:
    """A URL for an empty database like the suite's, and how to remove it."""
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}", lambda: None
    settings = connection.settings_dict
    name = f"{settings['NAME']}_migrated"
    quoted = connection.ops.quote_name(name)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted}")

    def drop() -> None:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")

    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}", drop


def test_every_migration_applies_to_an_empty_database_and_adds_the_reference_data(tmp_path):
    url, drop = _empty_database(tmp_path)
    try:
        env = clean_env(SECRET_KEY="migrations-test-key-0123456789", DEBUG="1", DATABASE_URL=url)
        migrated = run_manage("migrate", "--no-input", env=env, timeout=300)
        assert migrated.returncode == 0, migrated.stderr
        unapplied = run_manage("migrate", "--check", env=env)
        assert unapplied.returncode == 0, unapplied.stdout + unapplied.stderr
        counted = run_python(CHILD, env={**env, "DJANGO_SETTINGS_MODULE": "csf_portal.settings"})
        assert counted.returncode == 0, counted.stderr
        theirs = json.loads(counted.stdout.strip().splitlines()[-1])
    finally:
        drop()
    ours = reference_data()
    assert theirs["forums"] and theirs["roles"] and theirs["reasons"] and theirs["unit costs"]
    assert theirs["system account"] == [["csf-portal-system", False, False, 0]]
    assert theirs == ours
