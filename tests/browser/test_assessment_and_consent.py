"""A practitioner completes a common core assessment and records consent."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.instrument import ITEMS
from assessments.models import Assessment
from consent.models import ConsentRecord
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case(settings):
    settings.REQUIRE_MFA = False
    hostel = AgencyFactory(name="Hostel provider")
    UserFactory(username="jo", first_name="Jo", last_name="Pearce", agency=hostel)
    case = visible_case(hostel)
    case.person.given_name, case.person.family_name = "Ada", "Brennan"
    with set_up():
        case.person.save()
    return case


def test_assessment_then_consent(page, live_server, case):
    base = live_server.url
    sign_in(page, base, "jo")

    page.get_by_role("link", name="Cases").click()
    assert_accessible(page)
    page.get_by_role("link", name="Ada Brennan").click()
    assert_accessible(page)
    page.get_by_role("link", name="Details, assessments and consent").click()
    assert_accessible(page)
    page.get_by_role("button", name="Start a new assessment").click()
    assert_accessible(page)

    # Completing with gaps is refused with a clear message; answers are kept
    page.get_by_role("group", name="Accommodation", exact=True).get_by_label(
        "3 – Severe problem"
    ).check()
    page.get_by_label("What is happening (accommodation)").fill(
        "Evicted from the hostel after arrears."
    )
    page.get_by_role("button", name="Complete assessment").click()
    expect(page.get_by_role("alert")).to_contain_text("Give a score for")
    assert_accessible(page)
    expect(page.get_by_label("What is happening (accommodation)")).to_have_value(
        "Evicted from the hostel after arrears."
    )
    for _, domain, _, _ in ITEMS[1:]:
        page.get_by_role("group", name=domain, exact=True).get_by_label(
            "2 – Moderate problem"
        ).check()
    page.get_by_role("button", name="Complete assessment").click()
    expect(page.get_by_text("Assessment completed")).to_be_visible()
    # 3 + 2 x 10 + (2 x 2) x 3 risk items counted double
    expect(page.get_by_text("35", exact=True)).to_be_visible()
    assert_accessible(page)
    assert Assessment.objects.get().state == Assessment.State.COMPLETED

    page.get_by_role("link", name="Back").click()
    expect(page.get_by_text("Latest score")).to_contain_text("35")
    page.get_by_role("link", name="Consent and sharing basis").click()
    assert_accessible(page)
    page.get_by_role("link", name="Record consent").click()
    assert_accessible(page)
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("alert")).to_contain_text("Select at least one purpose")
    assert_accessible(page)
    page.get_by_label("Multi-agency care planning").check()
    page.get_by_label("All Creative Solutions Forum member agencies").check()
    page.get_by_label("Verbally, recorded by the practitioner").check()
    today = timezone.localdate()
    review_on = today + datetime.timedelta(days=365)
    group = page.get_by_role("group", name="Date consent was given")
    group.get_by_label("Day").fill(str(today.day))
    group.get_by_label("Month").fill(str(today.month))
    group.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Has capacity to decide about sharing").check()
    page.get_by_label("The person's own words (optional)").fill(
        "I'm fed up of telling my story again and again."
    )
    review = page.get_by_role("group", name="Review date")
    review.get_by_label("Day").fill(str(review_on.day))
    review.get_by_label("Month").fill(str(review_on.month))
    review.get_by_label("Year").fill(str(review_on.year))
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded.")).to_be_visible()
    assert_accessible(page)
    assert ConsentRecord.objects.count() == 2
