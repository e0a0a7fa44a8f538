"""The case record in a browser: risks, sharing them, the care plan, an outcome review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases import services
from cases.models import CarePlan, Risk
from csf_portal.models import Role, User
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    discussed_at_meeting,
    give_consent,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case(settings):
    settings.REQUIRE_MFA = False
    chair = UserFactory(
        username="chair", agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR]
    )
    hostel, housing = AgencyFactory(name="Hostel provider"), AgencyFactory(name="Housing")
    jo = UserFactory(username="jo", first_name="Jo", last_name="Pearce", agency=hostel)
    UserFactory(username="chris", first_name="Chris", last_name="Hughes", agency=housing)
    case = CaseFactory(person__given_name="Ada", person__family_name="Brennan")
    give_consent(case.person)
    services.case_agency_join(actor=chair, case=case, agency=chair.agency, named_worker=chair)
    services.case_agency_join(actor=chair, case=case, agency=hostel, named_worker=jo)
    services.case_agency_join(actor=chair, case=case, agency=housing)
    return case


def test_case_page_risks_and_care_plan(page, live_server, case):
    base = live_server.url
    sign_in(page, base, "jo")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.get_by_role("heading", name="Ada Brennan")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Add a risk").click()
    page.get_by_role("button", name="Save risk").click()
    expect(page.get_by_role("alert")).to_contain_text("Select the risk")
    assert_accessible(page)
    page.get_by_label("Risk", exact=True).select_option("accidental_overdose")
    page.get_by_label("Very high").check()
    page.get_by_label("What is the risk?").fill("Overdosed in the hostel toilets twice this month")
    page.get_by_role("button", name="Save risk").click()
    expect(page.get_by_text("Risk added")).to_be_visible()
    page.get_by_role("button", name="Share this risk").click()
    expect(page.get_by_text("Hostel provider now shares this risk")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Accidental overdose: change").click()
    page.get_by_label("High", exact=True).check()
    page.get_by_label("What is being done to reduce it?").fill("Naloxone kit given; staff trained")
    page.get_by_role("button", name="Save risk").click()
    expect(page.get_by_text("Risk updated")).to_be_visible()
    expect(page.get_by_text("Mitigations: Naloxone kit given; staff trained")).to_be_visible()
    assert Risk.objects.get().level == "high"

    page.get_by_role("link", name="Start the next version").click()
    expect(page.get_by_role("heading", name="Care plan: draft version 1")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("What will happen?").fill(
        "Joint visit, mental health and substance misuse, within 7 days"
    )
    page.get_by_label("Which agency will do it?").select_option(label="Hostel provider")
    page.get_by_role("button", name="Add to the plan").click()
    expect(page.get_by_text("Added to the draft plan")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # The chair cannot agree it while the very high risk has one owner
    sign_in(page, base, "chair")
    page.goto(f"{base}/cases/{case.pk}/care-plan/")
    expect(page.get_by_text("High risks need at least two owning agencies first")).to_be_visible()
    risk = Risk.objects.get()
    housing_user = risk.case.involvements.get(agency__name="Housing").agency
    services.risk_owner_add(
        actor=case.involvements.first().named_worker,
        risk=risk,
        agency=housing_user,
        accepted_by=housing_user.users.get(),
    )
    # The case was discussed at yesterday's forum: the plan is agreed on that item.
    item = discussed_at_meeting(case, chair=User.objects.get(username="chair"))
    page.reload()
    page.get_by_label("Which forum meeting agreed it?").select_option(index=1)
    page.get_by_role("button", name="Record the plan as agreed").click()
    expect(page.get_by_text("Care plan version 1 agreed.")).to_be_visible()
    expect(page.get_by_text("Joint visit, mental health and substance misuse")).to_be_visible()
    assert_accessible(page)
    assert CarePlan.objects.get().state == CarePlan.State.AGREED
    assert CarePlan.objects.get().agreed_meeting == item.meeting

    page.get_by_role("link", name="Record an outcome review").click()
    assert_accessible(page)


def test_a_risk_is_closed_by_its_owners_and_reopened(page, live_server, case):
    base = live_server.url
    jo, chris = User.objects.get(username="jo"), User.objects.get(username="chris")
    risk = services.risk_add(actor=jo, case=case, category="eviction", level="high")
    for worker in (jo, chris):
        services.risk_owner_add(actor=jo, risk=risk, agency=worker.agency, accepted_by=worker)

    sign_in(page, base, "jo")
    page.goto(f"{base}/cases/{case.pk}/")
    page.get_by_role("link", name="Agree to close: Eviction or loss of accommodation").click()
    expect(page.get_by_text("Still to agree")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Agree to close the risk").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why the risk can close")
    assert_accessible(page)
    page.get_by_label("Low").check()
    page.get_by_label("Why can it close?").fill("Rent arrears cleared; tenancy sustained")
    page.get_by_role("button", name="Agree to close the risk").click()
    expect(page.get_by_text("The risk closes when every owner agrees")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # Housing, the other owner, is told and agrees to the level proposed.
    sign_in(page, base, "chris")
    page.goto(f"{base}/cases/{case.pk}/risks/{risk.pk}/close/")
    expect(page.get_by_text("Rent arrears cleared; tenancy sustained").first).to_be_visible()
    expect(page.get_by_label("Low")).to_be_checked()
    page.get_by_role("button", name="Agree to close the risk").click()
    expect(page.get_by_text("Risk closed: every agency that owns it agreed.")).to_be_visible()
    page.get_by_text("Closed risks (1)").click()
    expect(page.get_by_text("closed", exact=False).first).to_be_visible()
    assert_accessible(page)
    assert Risk.objects.get(pk=risk.pk).level_at_closure == "low"

    page.get_by_role("link", name="Reopen: Eviction or loss of accommodation").click()
    page.get_by_label("High", exact=True).check()
    page.get_by_label("Why is it reopened?").fill("Notice to quit served again")
    page.get_by_role("button", name="Reopen the risk").click()
    expect(page.get_by_text("Risk reopened.")).to_be_visible()
    assert_accessible(page)
    assert Risk.objects.get(pk=risk.pk).status == "open"
