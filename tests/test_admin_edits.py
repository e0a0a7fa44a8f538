"""Issue 26.3 in the Django admin: every change form a portal role can save is checked
against the version read (csf_portal.admin_versions); a walk over the admin's registry
fails on a new one without the check."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from csf_portal.admin_versions import VersionCheckedAdmin
from csf_portal.models import Agency, Role
from csf_portal.roles import ROLE_PERMISSIONS
from reports.models import UnitCost
from tests.conftest import signed_in_client
from tests.factories import UserFactory
from tests.helpers import as_read

NO_ROLE_CHANGES = "no portal role has its change permission: only a superuser, at the shell"

# Registered admins that need no version check, each with why.
ALLOWED: dict[str, str] = {
    "auth.Group": "administrators only view groups (auth.view_group); roles are set on the user",
    "otp_totp.TOTPDevice": NO_ROLE_CHANGES,
    "otp_static.StaticDevice": NO_ROLE_CHANGES + " (recovery codes: the user renews their own)",
    "axes.AccessAttempt": NO_ROLE_CHANGES + " (a sign-in log)",
    "axes.AccessLog": NO_ROLE_CHANGES + " (a sign-in log)",
    "axes.AccessFailureLog": NO_ROLE_CHANGES + " (a sign-in log)",
    "csf_portal.AccessEvent": "the access log is read-only: no add, change or delete",
}


def unchecked_admins(registry) -> list[str]:
    return sorted(
        model._meta.label
        for model, model_admin in registry.items()
        if not isinstance(model_admin, VersionCheckedAdmin) and model._meta.label not in ALLOWED
    )


def test_every_admin_change_form_checks_the_version_it_read():
    assert unchecked_admins(admin.site._registry) == []
    assert set(ALLOWED) <= {m._meta.label for m in admin.site._registry}


def test_no_role_may_change_what_the_allow_list_says_it_may_not():
    granted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    for label in ALLOWED:
        app_label, model = label.split(".")
        assert f"{app_label}.change_{model.lower()}" not in granted, label


def test_the_walk_catches_a_new_admin_without_the_check():
    registry = {Agency: admin.ModelAdmin(Agency, admin.site)}
    assert unchecked_admins(registry) == ["csf_portal.Agency"]
    assert unchecked_admins({Agency: VersionCheckedAdmin(Agency, admin.site)}) == []


@pytest.mark.django_db
def test_a_second_administrators_unit_cost_change_is_refused_and_keeps_the_typing():
    police = UnitCost.objects.get(item="police")
    url = reverse("admin:reports_unitcost_change", args=[police.pk])
    first = signed_in_client(UserFactory(agency=None, roles=[Role.ADMINISTRATOR]))
    second = signed_in_client(UserFactory(agency=None, roles=[Role.ADMINISTRATOR]))
    seen_first = as_read(first, url, {"amount": "400.00", "source": "Force finance"})
    seen_second = as_read(second, url, {"amount": "455.25", "source": "Typed by the second"})
    assert seen_first["read_version"] and seen_first["read_version"] == seen_second["read_version"]
    assert first.post(url, {**seen_first, "is_placeholder": ""}).status_code == 302
    page = second.post(url, {**seen_second, "is_placeholder": ""})
    text = page.content.decode()
    assert page.status_code == 200 and "errornote" in text
    assert "Someone else changed this record while you were editing" in text
    assert "Amount: 400.00" in text and "Source: Force finance" in text  # theirs, shown
    assert 'value="455.25"' in text and 'value="Typed by the second"' in text  # mine, kept
    police.refresh_from_db()
    assert (str(police.amount), police.source) == ("400.00", "Force finance")
    # the page offers the new version: saving again replaces theirs, knowingly
    offered = re.search(r'name="read_version" value="([^"]*)"', text)
    assert offered and offered.group(1) != seen_second["read_version"]
    again = second.post(
        url, {**seen_second, "is_placeholder": "", "read_version": offered.group(1)}
    )
    assert again.status_code == 302
    police.refresh_from_db()
    assert (str(police.amount), police.source) == ("455.25", "Typed by the second")


@pytest.mark.django_db
def test_a_stale_save_that_changes_nothing_theirs_says_is_no_conflict():
    police = UnitCost.objects.get(item="police")
    url = reverse("admin:reports_unitcost_change", args=[police.pk])
    client = signed_in_client(UserFactory(agency=None, roles=[Role.ADMINISTRATOR]))
    data = as_read(client, url, {"amount": "400.00", "source": "Force finance"})
    assert client.post(url, {**data, "is_placeholder": ""}).status_code == 302
    assert client.post(url, {**data, "is_placeholder": ""}).status_code == 302


@pytest.mark.django_db
def test_an_administrator_sets_an_agencys_crisis_contacts():
    from tests.factories import AgencyFactory

    agency = AgencyFactory(name="Hostel")
    url = reverse("admin:csf_portal_agency_change", args=[agency.pk])
    administrator = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(administrator)
    assert "Crisis contacts" in client.get(url).content.decode()
    data = as_read(
        client,
        url,
        {
            "name": "Hostel",
            "kind": agency.kind,
            "is_active": "on",
            "phone": "0121 496 0210",
            "team_inbox": "hostel.staff@example.org",
            "out_of_hours": "Night manager on site, 0121 496 0211",
        },
    )
    assert client.post(url, data).status_code == 302
    agency.refresh_from_db()
    assert (agency.phone, agency.team_inbox, agency.out_of_hours) == (
        "0121 496 0210",
        "hostel.staff@example.org",
        "Night manager on site, 0121 496 0211",
    )
    assert agency.history.first().history_user == administrator
    bad = client.post(url, {**as_read(client, url, data), "team_inbox": "not an address"})
    assert bad.status_code == 200 and "errornote" in bad.content.decode()
