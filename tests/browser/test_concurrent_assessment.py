"""Issue 26.3 in two browsers: two sessions on one draft assessment lose no answer.

Two windows of one practitioner (say a laptop and a desktop) have the draft open. One saves
the accommodation answer; the other, which never touched it, saves drugs: both answers stand.
Then both change the same answer: the second save is refused, the other's answer is shown,
what was typed is kept, and saving again replaces it knowingly.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assessments import services
from assessments.models import Assessment
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def draft(settings):
    settings.REQUIRE_MFA = False
    hostel = AgencyFactory(name="Hostel provider")
    jo = UserFactory(username="jo", first_name="Jo", last_name="Pearce", agency=hostel)
    return services.assessment_start(actor=jo, person=visible_case(hostel).person)


def _open(browser, base, url):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, base, "jo")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(url)
    return context, page


def _answer(draft, code):
    return draft.answers.filter(item__code=code).values_list("score", "narrative").first()


def test_two_sessions_on_one_assessment(browser, live_server, draft):
    url = live_server.url + reverse("assessments:edit", args=[draft.pk])
    laptop_context, laptop = _open(browser, live_server.url, url)
    desktop_context, desktop = _open(browser, live_server.url, url)
    try:
        laptop.get_by_role("group", name="Accommodation", exact=True).get_by_label(
            "3 – Severe problem"
        ).check()
        laptop.get_by_label("What is happening (accommodation)").fill("Sofa surfing")
        laptop.get_by_role("button", name="Save as draft").click()
        expect(laptop.get_by_text("Your answers have been saved as a draft.")).to_be_visible()

        # The desktop still shows the blank accommodation answer; it changes drugs only.
        desktop.get_by_label("What is happening (substance misuse: drugs)").fill("Cannabis daily")
        desktop.get_by_role("button", name="Save as draft").click()
        expect(desktop.get_by_text("Your answers have been saved as a draft.")).to_be_visible()
        assert _answer(draft, "accommodation") == (3, "Sofa surfing")
        assert _answer(draft, "drugs") == (None, "Cannabis daily")

        # Both open the draft again and change the same answer.
        laptop.goto(url)
        desktop.goto(url)
        laptop.get_by_label("What is happening (accommodation)").fill("Hostel place found")
        laptop.get_by_role("button", name="Save as draft").click()
        expect(laptop.get_by_text("Your answers have been saved as a draft.")).to_be_visible()
        desktop.get_by_label("What is happening (accommodation)").fill("Still on a sofa")
        desktop.get_by_role("button", name="Save as draft").click()

        summary = desktop.get_by_role("alert")
        expect(summary).to_contain_text("There is a problem")
        expect(summary).to_contain_text("Someone else changed these answers")
        expect(summary).to_contain_text("Accommodation now has score 3, “Hostel place found”")
        expect(desktop.get_by_label("What is happening (accommodation)")).to_have_value(
            "Still on a sofa"
        )
        expect(desktop.get_by_label("What is happening (substance misuse: drugs)")).to_have_value(
            "Cannabis daily"
        )
        assert_accessible(desktop)
        assert _answer(draft, "accommodation") == (3, "Hostel place found")

        # Saving again is a conscious choice: it replaces theirs.
        desktop.get_by_role("button", name="Save as draft").click()
        expect(desktop.get_by_text("Your answers have been saved as a draft.")).to_be_visible()
        assert _answer(draft, "accommodation") == (3, "Still on a sofa")
        assert Assessment.objects.get().state == Assessment.State.DRAFT
    finally:
        laptop_context.close()
        desktop_context.close()
