"""The demo users ``seed_demo`` makes (DESIGN §6), and a second run changing nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from csf_portal.models import Agency, User

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]


def test_seed_demo_builds_the_demo_users_and_is_idempotent(seeded, settings):
    settings.DEMO_MODE = True
    expected = {
        "chair": ("Adult Safeguarding", {"Forum chair"}),
        "police": ("Police", {"Practitioner"}),
        "hostel": ("Hostel provider", {"Practitioner"}),
        "mh": ("Mental health provider", {"Practitioner", "Forum member"}),
        "housing": ("Housing", {"Practitioner", "Forum member"}),
        "gp": ("GP practice", {"Practitioner"}),
        "sog": ("Substance misuse provider", {"SOG member"}),
        "commissioner": ("Commissioning team", {"Commissioner"}),
        "admin": (None, {"Administrator"}),
    }
    for username, (agency_name, roles) in expected.items():
        user = User.objects.get(username=username)
        assert (user.agency.name if user.agency else None) == agency_name
        assert set(user.role_names()) == roles
        assert user.check_password(settings.DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="admin").is_superuser

    def snapshot():
        return (
            Agency.objects.count(),
            User.objects.count(),
            Group.objects.count(),
            Agency.history.count(),
            User.history.count(),
        )

    before = snapshot()
    call_command("seed_demo", verbosity=0)
    assert snapshot() == before
