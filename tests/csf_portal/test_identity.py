"""Agencies, users, roles, history and the demo data command."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from csf_portal import services
from csf_portal.errors import DomainError
from csf_portal.history import acting_as
from csf_portal.models import AgencyKind, Role, User
from csf_portal.roles import ROLE_PERMISSIONS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_with_its_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert have == set(perms)
    assert {r.value for r in Role} == set(ROLE_PERMISSIONS)


@pytest.fixture
def admin(db):
    return UserFactory(agency=None, roles=[Role.ADMINISTRATOR])


def test_agency_gets_its_own_group(admin):
    agency = services.agency_create(actor=admin, name="Harbour Hostel", kind=AgencyKind.HOSTEL)
    assert agency.group.name == "agency:harbour-hostel"
    assert agency.history.get().history_user == admin
    with pytest.raises(DomainError):
        services.agency_create(actor=admin, name="Harbour Hostel", kind=AgencyKind.HOSTEL)


def test_roles_drive_permissions_and_staff_status(agency, admin):
    user = services.user_create(
        actor=admin,
        username="pat",
        password="a-long-test-password-1",
        first_name="Pat",
        last_name="Lee",
        email="pat@example.org",
        agency=agency,
        roles=[Role.PRACTITIONER],
    )
    assert user.has_perm("csf_portal.make_referral")
    assert not user.has_perm("csf_portal.triage_referral")
    services.user_roles_set(actor=admin, user=user, roles=[Role.ADMINISTRATOR])
    user = User.objects.get(pk=user.pk)
    assert {h.history_user for h in user.history.all()} == {admin}
    assert user.is_staff
    assert user.has_perm("csf_portal.administer_portal")
    assert not user.has_perm("csf_portal.make_referral")
    assert user.groups.filter(name=agency.group.name).exists() is False  # roles only
    with pytest.raises(DomainError):
        services.user_roles_set(actor=admin, user=user, roles=["Wizard"])


def test_changes_to_agencies_and_users_are_in_history(agency, practitioner, admin):
    services.agency_update(
        actor=admin, agency=agency, name="Renamed", kind=agency.kind, is_active=False
    )
    latest = agency.history.latest()
    assert latest.name == "Renamed" and latest.history_user == admin
    assert latest.prev_record.name != "Renamed"
    practitioner.job_title = "Team leader"
    with acting_as(admin):
        practitioner.save()
    latest = practitioner.history.latest()
    assert latest.job_title == "Team leader" and latest.history_user == admin


def test_seed_demo_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="CSF_DEMO_MODE"):
        call_command("seed_demo")


def test_expired_sessions_are_cleared_by_the_periodic_task(practitioner):
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from csf_portal.tasks import clear_expired_sessions

    Session.objects.create(
        session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="y" * 32, session_data="", expire_date=timezone.now() + timedelta(hours=1)
    )
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
    assert "csf_portal.clear_expired_sessions" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
