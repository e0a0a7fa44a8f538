"""A practitioner refers a person, saving a draft and resuming it; the chair accepts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case
from referrals.models import Referral
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(settings):
    settings.REQUIRE_MFA = False
    settings.DEMO_MODE = True
    police = UserFactory(username="pc", agency=AgencyFactory(name="Police"), roles=["Practitioner"])
    chair = UserFactory(
        username="chair", agency=AgencyFactory(name="Adult Safeguarding"), roles=["Forum chair"]
    )
    AgencyFactory(name="Hostel provider")
    return police, chair


def _continue(page):
    page.get_by_role("button", name="Save and continue").click()


def test_referral_with_a_draft_then_accepted(page, live_server, people):
    base = live_server.url
    sign_in(page, base, "pc")
    page.get_by_role("link", name="Referrals").click()
    assert_accessible(page)
    page.get_by_role("button", name="Make a referral").click()

    # About the person: bad input first, then right
    _continue(page)
    expect(page.get_by_role("alert")).to_contain_text("Enter the person's first name")
    assert_accessible(page)
    page.get_by_label("First name").fill("Kate")
    page.get_by_label("Last name").fill("Smyth")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("1982")
    page.get_by_label("NHS number (optional)").fill("485 777 3456")
    page.get_by_label("Woman").check()
    _continue(page)
    expect(page.get_by_role("alert")).to_contain_text("Enter a real NHS number")
    expect(page.get_by_label("Last name")).to_have_value("Smyth")
    page.get_by_label("NHS number (optional)").fill("943 476 5919")
    _continue(page)

    page.get_by_label("Hostel", exact=True).check()
    assert_accessible(page)
    # Save as draft and leave
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Your draft has been saved")).to_be_visible()
    expect(page.get_by_role("cell", name="Kate Smyth")).to_be_visible()

    # Resume later from the list
    page.get_by_role("link", name=Referral.objects.get().short_ref).click()
    assert_accessible(page)
    page.get_by_role("link", name="Continue the referral").click()
    expect(page.get_by_role("heading", name="Areas of need")).to_be_visible()
    page.get_by_label("Homelessness").check()
    page.get_by_label("Mental ill-health").check()
    _continue(page)
    page.get_by_label("Self-neglect").check()
    page.get_by_label("Eviction", exact=True).check()
    _continue(page)
    page.get_by_label("Risk", exact=True).select_option("self_neglect")
    page.get_by_label("High", exact=True).check()
    page.get_by_role("button", name="Add this risk").click()
    expect(page.get_by_text("Risks you have added")).to_be_visible()
    assert_accessible(page)
    _continue(page)
    page.get_by_label("Hostel provider").check()
    _continue(page)
    page.get_by_label("What has been tried").fill("Three hostel placements ended in eviction.")
    _continue(page)
    page.get_by_label("What do you hope the forum can do?").fill("Shared risk and a housing plan.")
    _continue(page)
    page.get_by_label("Urgent: the next forum").check()
    _continue(page)
    page.get_by_label("The person has given consent").check()
    assert_accessible(page)
    _continue(page)
    page.get_by_label("In writing").check()
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("The person was told").check()
    page.get_by_label("All Creative Solutions Forum member agencies").check()
    assert_accessible(page)
    _continue(page)

    # The draft's first page answers survived the save-and-resume
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_text("Kate Smyth")).to_be_visible()
    expect(page.get_by_text("9434765919")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("heading", name="Referral sent")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # The chair triages and accepts
    sign_in(page, base, "chair")
    expect(page.get_by_text("1 referral waiting for triage")).to_be_visible()
    page.get_by_role("link", name="Triage", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Kate Smyth").click()
    assert_accessible(page)
    page.get_by_role("link", name="Accept").click()
    assert_accessible(page)
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_text("Referral accepted")).to_be_visible()
    expect(page.get_by_text("No referrals are waiting for triage")).to_be_visible()

    referral = Referral.objects.get()
    assert referral.state == Referral.State.ACCEPTED
    assert referral.case.state == Case.State.AWAITING_FORUM
    page.get_by_role("button", name="Sign out").click()

    # The referrer sees the decision
    sign_in(page, base, "pc")
    expect(page.get_by_text("has been accepted")).to_be_visible()


def test_chair_compares_a_mistyped_nhs_number_and_records_a_new_person(page, live_server, people):
    """Issue 19: an NHS number typed wrong (but checksum-valid) is someone else's."""
    import datetime

    from cases.models import Person
    from referrals import services
    from tests.referrals.conftest import complete_referral

    police, chair = people
    brian = complete_referral(
        police,
        given_name="Brian",
        family_name="Okoro",
        date_of_birth=datetime.date(1970, 1, 1),
        nhs_number="9434765919",
    )
    services.referral_accept(actor=chair, referral=brian)
    stranger = Person.objects.get()
    stranger_history = stranger.history.count()
    kate = complete_referral(police, nhs_number="9434765919")
    assert kate.person is None  # proposed to the chair, not linked

    base = live_server.url
    sign_in(page, base, "chair")
    page.get_by_role("link", name="Triage", exact=True).click()
    page.get_by_role("link", name="Kate Smyth").click()
    expect(page.get_by_text("has not been linked")).to_be_visible()
    page.get_by_role("link", name="Accept").click()

    # Both sets of identifiers side by side, each mismatch said in words
    table = page.get_by_role("table", name="The referral's details beside the record of Brian")
    expect(table).to_be_visible()
    name_row = table.get_by_role("row", name="Name Kate Smyth Brian Okoro")
    expect(name_row).to_contain_text("Does not match")
    dob_row = table.get_by_role("row", name="Date of birth")
    expect(dob_row).to_contain_text("3 April 1982")
    expect(dob_row).to_contain_text("1 January 1970")
    expect(dob_row).to_contain_text("Does not match")
    expect(table.get_by_role("row", name="NHS number")).to_contain_text("Matches")
    expect(page.get_by_text("Does not match: Name, Date of birth.")).to_be_visible()
    assert_accessible(page)

    # Choosing nothing is explained, then "new person"
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_role("alert")).to_contain_text("Say whether this is someone already known")
    assert_accessible(page)
    page.get_by_label("No, this is a new person").check()
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_text("Referral accepted")).to_be_visible()

    kate.refresh_from_db()
    assert kate.person != stranger
    assert (kate.person.given_name, kate.person.family_name) == ("Kate", "Smyth")
    assert kate.case.person == kate.person
    stranger.refresh_from_db()
    assert stranger.history.count() == stranger_history
    assert stranger.cases.count() == 1

    page.goto(f"{base}/referrals/{kate.pk}/")
    expect(page.get_by_text("Chair's decision: a new person")).to_be_visible()
