"""A forum chair reads the log of role, agency and standing-membership changes (issue 19)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from csf_portal import services
from csf_portal.models import Role
from forums import services as forum_services
from forums.models import Forum
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def changes(settings):
    settings.REQUIRE_MFA = False
    UserFactory(
        username="cass",
        first_name="Cass",
        last_name="Chair",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )
    admin = UserFactory(
        username="alex",
        first_name="Alex",
        last_name="Admin",
        agency=None,
        roles=[Role.ADMINISTRATOR],
    )
    hostel = AgencyFactory(name="Harbour Hostel")
    olive = UserFactory(first_name="Olive", last_name="Worker", agency=None, roles=[])
    services.user_agency_set(actor=admin, user=olive, agency=hostel)
    services.user_roles_set(actor=admin, user=olive, roles=[Role.PRACTITIONER])
    nadia = UserFactory(first_name="Nadia", last_name="Member", agency=hostel)
    forum_services.membership_add(actor=admin, forum=Forum.objects.get(kind="csf"), user=nadia)


def _sign_in(page, base, username):
    sign_in(page, base, username)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_chair_reads_and_filters_the_role_changes(page, live_server, changes):
    base = live_server.url
    _sign_in(page, base, "cass")
    page.get_by_role("link", name="Role changes").click()
    expect(page.get_by_role("heading", name="Role changes")).to_be_visible()
    assert_accessible(page)
    table = page.get_by_role("table")
    # newest first: the standing membership was the last change
    first = table.get_by_role("row").nth(1)
    expect(first).to_contain_text("Standing forum membership added")
    expect(first).to_contain_text("Nadia Member")
    expect(first).to_contain_text("Alex Admin")
    expect(table).to_contain_text("Role given: Practitioner")

    page.get_by_role("link", name="Olive Worker: show only changes to their access").first.click()
    expect(page.get_by_role("heading", name="Changes to Olive Worker's access")).to_be_visible()
    expect(page.get_by_role("table")).not_to_contain_text("Nadia Member")
    expect(page.get_by_role("table")).to_contain_text(
        "Agency changed from no agency to Harbour Hostel"
    )
    assert_accessible(page)
    page.get_by_role("link", name="Show changes to everyone's access").click()
    expect(page.get_by_role("table")).to_contain_text("Nadia Member")


def test_an_administrator_has_no_link_and_gets_not_found(page, live_server, changes):
    base = live_server.url
    _sign_in(page, base, "alex")
    expect(page.get_by_role("link", name="Role changes")).to_have_count(0)
    response = page.goto(f"{base}/role-changes/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Olive Worker")).to_have_count(0)
