"""Door 3 of issue 19: sharing without consent needs a second person, in their own session.

A practitioner asks to share a person's information without consent; it covers no
one until a forum chair, signed in separately, approves it. The requester can never
approve their own request.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

import access
from consent.models import SharingBasis
from csf_portal.models import Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, CaseFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case(settings):
    settings.REQUIRE_MFA = False
    police = AgencyFactory(name="Police")
    UserFactory(username="pat", first_name="Pat", last_name="Officer", agency=police)
    UserFactory(
        username="cass",
        first_name="Cass",
        last_name="Chair",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )
    # The police are involved, but no consent or other basis covers them yet.
    case = CaseFactory(person__given_name="Ada", person__family_name="Brennan")
    access.case_access_grant(agency=police, case=case)
    return case


def _sign_in(page, base, username):
    sign_in(page, base, username)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _fill_date(page, legend, day: datetime.date):
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_second_person_approves_sharing_without_consent(page, browser, live_server, case):
    base = live_server.url
    consent_page = base + reverse("consent:overview", args=[case.person.pk])
    today = timezone.localdate()

    # Practitioner A: the case is not theirs to see yet.
    _sign_in(page, base, "pat")
    page.get_by_role("link", name="Cases").click()
    expect(page.get_by_text("There are no cases you can see.")).to_be_visible()
    page.goto(consent_page)
    expect(page.get_by_text("There is no current consent or sharing basis")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Ask to share without consent").click()
    assert_accessible(page)
    page.get_by_role("button", name="Ask a forum chair to approve").click()
    expect(page.get_by_role("alert")).to_contain_text("Select the lawful basis")
    assert_accessible(page)
    page.get_by_label("Prevention or detection of crime").check()
    page.get_by_label("Why is sharing without consent justified?").fill(
        "Threats to hostel staff; police need the risk history to plan a visit."
    )
    page.get_by_role("group", name="Or only these agencies").get_by_label("Police").check()
    _fill_date(page, "Start date", today)
    _fill_date(page, "End date", today + datetime.timedelta(days=60))
    page.get_by_role("button", name="Ask a forum chair to approve").click()
    expect(page.get_by_text("Request sent to the forum chairs")).to_be_visible()
    expect(page.get_by_text("Waiting for a chair's approval")).to_be_visible()
    assert_accessible(page)
    basis = SharingBasis.objects.get(person=case.person)
    assert basis.status == SharingBasis.Status.PENDING

    # The requester cannot approve their own: nothing waits for them, the page is a 404.
    page.goto(base + reverse("sharing_bases:waiting"))
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    response = page.goto(base + reverse("sharing_bases:decide", args=[basis.pk]))
    assert response is not None and response.status == 404
    expect(page.get_by_role("button", name="Approve sharing without consent")).to_have_count(0)
    page.goto(base + reverse("cases:list"))
    expect(page.get_by_role("link", name="Ada Brennan")).to_have_count(0)

    # The forum chair, in a second browser context of their own.
    context = browser.new_context(bypass_csp=True)
    try:
        chair = context.new_page()
        chair.set_default_timeout(15000)
        _sign_in(chair, base, "cass")
        chair.goto(base + reverse("sharing_bases:waiting"))
        expect(chair.get_by_role("cell", name="Pat Officer, Police")).to_be_visible()
        assert_accessible(chair)
        chair.get_by_role("link", name="Ada Brennan").click()
        expect(chair.get_by_text("Threats to hostel staff")).to_be_visible()
        assert_accessible(chair)
        chair.get_by_role("button", name="Approve sharing without consent").click()
        expect(chair.get_by_text("Sharing without consent approved")).to_be_visible()
        expect(chair.get_by_text("Nothing is waiting for you.")).to_be_visible()
        assert_accessible(chair)
    finally:
        context.close()
    basis.refresh_from_db()
    assert basis.status == SharingBasis.Status.APPROVED and basis.approved_by.username == "cass"

    # Practitioner A's session: the case is covered now.
    page.goto(consent_page)
    expect(page.get_by_text("There is no current consent or sharing basis")).to_have_count(0)
    expect(page.get_by_text("Approved by")).to_be_visible()
    page.get_by_role("link", name="Cases").click()
    page.get_by_role("link", name="Ada Brennan").click()
    expect(page.get_by_role("heading", name="Ada Brennan")).to_be_visible()
    assert_accessible(page)


def test_a_chair_cannot_approve_their_own_request(page, browser, live_server, case):
    """The rule itself, not the role: the chair who asks has no approve button; another has."""
    base = live_server.url
    today = timezone.localdate()
    UserFactory(
        username="dana",
        first_name="Dana",
        last_name="Second",
        agency=AgencyFactory(name="Probation"),
        roles=[Role.FORUM_CHAIR],
    )
    _sign_in(page, base, "cass")
    page.goto(base + reverse("consent:basis_record", args=[case.person.pk]))
    page.get_by_label("Safeguarding duty (Care Act 2014, section 42)").check()
    page.get_by_label("Why is sharing without consent justified?").fill(
        "Section 42 enquiry: the services involved must share what they know."
    )
    page.get_by_label("All Creative Solutions Forum member agencies").check()
    _fill_date(page, "Start date", today)
    _fill_date(page, "End date", today + datetime.timedelta(days=30))
    page.get_by_role("button", name="Ask a forum chair to approve").click()
    expect(page.get_by_text("Request sent to the forum chairs")).to_be_visible()
    basis = SharingBasis.objects.get(person=case.person)

    page.goto(base + reverse("sharing_bases:waiting"))
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    response = page.goto(base + reverse("sharing_bases:decide", args=[basis.pk]))
    assert response is not None and response.status == 404
    expect(page.get_by_role("button", name="Approve sharing without consent")).to_have_count(0)

    context = browser.new_context(bypass_csp=True)
    try:
        other = context.new_page()
        other.set_default_timeout(15000)
        _sign_in(other, base, "dana")
        other.goto(base + reverse("sharing_bases:waiting"))
        other.get_by_role("link", name="Ada Brennan").click()
        expect(other.get_by_role("button", name="Approve sharing without consent")).to_be_visible()
        assert_accessible(other)
    finally:
        context.close()
    basis.refresh_from_db()
    assert basis.status == SharingBasis.Status.PENDING  # looking decides nothing
