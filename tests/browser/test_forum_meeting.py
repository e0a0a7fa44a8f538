"""The chair runs a forum meeting in a browser: agenda, publication, minutes, action, approval."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import services as case_services
from csf_portal.models import Role
from forums.models import Action, Forum, ForumMembership, Meeting
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings):
    settings.REQUIRE_MFA = False
    chair = UserFactory(
        username="chair",
        first_name="Sam",
        last_name="Okafor",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )
    hostel = AgencyFactory(name="Hostel provider")
    jo = UserFactory(username="jo", first_name="Jo", last_name="Pearce", agency=hostel)
    mh = AgencyFactory(name="Mental health provider")
    member = UserFactory(
        username="mh", first_name="Priya", last_name="Shah", agency=mh, roles=[Role.FORUM_MEMBER]
    )
    with set_up():
        ForumMembership.objects.create(forum=Forum.objects.get(kind="csf"), user=member, agency=mh)
    AgencyFactory(name="Probation")
    for given, family in [("Ada", "Brennan"), ("Tom", "Kerrigan"), ("Lena", "Moss")]:
        case = CaseFactory(person__given_name=given, person__family_name=family)
        give_consent(case.person)
        case_services.case_agency_join(actor=chair, case=case, agency=chair.agency)
        case_services.case_agency_join(actor=chair, case=case, agency=hostel, named_worker=jo)
    return {"chair": chair, "jo": jo, "member": member}


def test_chair_builds_an_agenda_records_minutes_with_an_action_and_approves(
    page, live_server, world
):
    base = live_server.url
    sign_in(page, base, "chair")
    page.get_by_role("link", name="Forums").first.click()
    expect(page.get_by_role("heading", name="Forums", exact=True)).to_be_visible()
    assert_accessible(page)

    # Plan today's meeting (it started at one minute past midnight), with a mistake first
    page.get_by_role("link", name="Plan a Creative Solutions Forum meeting").click()
    assert_accessible(page)
    today = timezone.localdate()
    date = page.get_by_role("group", name="Date")
    date.get_by_label("Day").fill(str(today.day))
    date.get_by_label("Month").fill(str(today.month))
    date.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Start time").fill("00:01")
    page.get_by_label("End time").fill("23:30")
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.get_by_role("alert")).to_contain_text("Give a place or an online link")
    assert_accessible(page)
    page.get_by_label("Place (optional if online)").fill("Room 2, Council House")
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.get_by_text("Meeting planned.")).to_be_visible()
    assert_accessible(page)

    # Two cases on the agenda: fewer than the usual three, so a warning, not a refusal
    for name in ("Ada Brennan", "Tom Kerrigan"):
        page.get_by_role("link", name="Add to the agenda").click()
        assert_accessible(page)
        page.get_by_label(name).check()
        page.get_by_role("button", name="Add to the agenda").click()
        expect(
            page.get_by_role("heading", name="time, presenter and invited services")
        ).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Time slot starts (optional)").fill(
            "10:00" if name.startswith("Ada") else "10:30"
        )
        page.get_by_label("Presenting practitioner (optional)").select_option(
            label="Jo Pearce (Hostel provider)"
        )
        page.get_by_label("Probation").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("saved.")).to_be_visible()
    expect(page.get_by_text("This agenda has 2 cases: 3 to 6 is usual")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Publish the agenda").click()
    expect(page.get_by_text("You can still go ahead")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.get_by_text("Agenda published.")).to_be_visible()
    meeting = Meeting.objects.get()
    assert meeting.state == Meeting.State.AGENDA_PUBLISHED

    page.get_by_role("link", name="Record attendance").click()
    page.get_by_label("Who?").select_option(label="Priya Shah (Mental health provider)")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_text("Attendance recorded.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Back to the meeting").click()
    page.get_by_role("link", name="Record that it was held").click()
    page.get_by_role("button", name="The meeting was held").click()
    expect(page.get_by_text("Meeting recorded as held.")).to_be_visible()

    # Minutes, then an action with a bad date first
    for order, text in ((1, "Ada Brennan"), (2, "Tom Kerrigan")):
        page.get_by_role(
            "link", name=f"Record minutes, decisions and actions for item {order}"
        ).click()
        expect(page.get_by_role("heading", name=f"Item {order}: {text}")).to_be_visible()
        page.get_by_label("Minutes").fill(
            "Hostel and mental health to share the overdose risk; joint visit agreed."
        )
        page.get_by_role("button", name="Save the minutes").click()
        expect(page.get_by_text("Minutes saved.")).to_be_visible()
        assert_accessible(page)
        if order == 1:
            page.get_by_role("link", name="Add an action").click()
            page.get_by_label("What will be done?").fill(
                "Joint visit with the community mental health team"
            )
            page.get_by_label("Who owns it?").select_option(label="Jo Pearce (Hostel provider)")
            due = page.get_by_role("group", name="Due date")
            due.get_by_label("Day").fill("31")
            due.get_by_label("Month").fill("2")
            due.get_by_label("Year").fill(str(today.year + 1))
            page.get_by_role("button", name="Add the action").click()
            expect(page.get_by_role("alert")).to_contain_text("Due date must be a real date")
            expect(page.get_by_label("What will be done?")).to_have_value(
                "Joint visit with the community mental health team"
            )
            assert_accessible(page)
            later = today + datetime.timedelta(days=14)
            due.get_by_label("Day").fill(str(later.day))
            due.get_by_label("Month").fill(str(later.month))
            due.get_by_label("Year").fill(str(later.year))
            page.get_by_role("button", name="Add the action").click()
            expect(page.get_by_text("Action added.")).to_be_visible()
            expect(page.get_by_role("link", name="Joint visit with the community")).to_be_visible()
        page.get_by_role("link", name="Back to the meeting").click()

    page.get_by_role("link", name="Approve the minutes").click()
    assert_accessible(page)
    page.get_by_role("button", name="Approve the minutes").click()
    expect(page.get_by_text("Minutes approved. They are now read-only.")).to_be_visible()
    expect(page.get_by_role("link", name="Correct the minutes")).to_be_visible()
    assert_accessible(page)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_APPROVED
    action = Action.objects.get()
    assert action.owner == world["jo"] and action.case.person.given_name == "Ada"
    page.get_by_role("button", name="Sign out").click()

    # The owner sees it on My work and updates it
    sign_in(page, base, "jo")
    expect(page.get_by_role("heading", name="Your agency's actions")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Joint visit with the community").click()
    page.get_by_label("In progress").check()
    page.get_by_label("Update").fill("Visit booked for Tuesday")
    page.get_by_role("button", name="Save the update").click()
    expect(page.get_by_text("Action updated.")).to_be_visible()
    assert_accessible(page)
    action.refresh_from_db()
    assert action.status == Action.Status.IN_PROGRESS


def test_the_agenda_offers_only_what_the_chair_may_see_and_decisions_go_on_the_cases_item(
    page, live_server, world
):
    """Issue 19 doors 1 and 2, in a browser: the builder lists only cases the chair may see
    and the forum may discuss; a decision that an agency leaves is recorded on the case's
    item and shows on its minutes; a case not discussed offers no meeting to decide it."""
    from cases.models import CaseAgency
    from forums import services as forum_services

    chair = world["chair"]
    elsewhere = CaseFactory(person__given_name="Nora", person__family_name="Elsewhere")
    give_consent(elsewhere.person)  # consented, but the chair's agency is not involved
    case_services.case_agency_join(
        actor=chair, case=elsewhere, agency=world["jo"].agency, named_worker=world["jo"]
    )
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        location="Room 2, Council House",
    )
    base = live_server.url
    sign_in(page, base, "chair")
    page.goto(f"{base}/forums/meetings/{meeting.pk}/agenda/add/")
    expect(page.get_by_role("heading", name="Add a case to the agenda")).to_be_visible()
    assert_accessible(page)
    for name in ("Ada Brennan", "Tom Kerrigan", "Lena Moss"):
        expect(page.get_by_label(name)).to_be_visible()
    expect(page.get_by_text("Nora Elsewhere")).to_have_count(0)
    page.get_by_label("Ada Brennan").check()
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.get_by_role("heading", name="time, presenter and invited services")).to_be_visible()
    forum_services.agenda_publish(actor=chair, meeting=meeting)

    page.goto(f"{base}/forums/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Record minutes, decisions and actions for item 1").click()
    page.get_by_role("link", name="Record a decision").click()
    assert_accessible(page)
    page.get_by_label("An agency stops being involved in a case").check()
    page.get_by_label("Which agency? (for an agency leaving, or giving up a risk)").select_option(
        label="Hostel provider"
    )
    page.get_by_label("What did the forum decide, and why?").fill(
        "The hostel's work is done; mental health carries on."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    expect(page.get_by_text("The hostel's work is done; mental health carries on.")).to_be_visible()
    assert_accessible(page)
    ada = meeting.items.get().case
    assert not CaseAgency.objects.filter(case=ada, agency=world["jo"].agency, left_at=None).exists()

    # Tom was not discussed: the case page offers no meeting to decide that an agency leaves.
    tom = CaseAgency.objects.get(case__person__given_name="Tom", agency=chair.agency).case
    page.goto(f"{base}/cases/{tom.pk}/leave/")
    assert_accessible(page)
    expect(page.get_by_label("Which forum meeting decided it?").locator("option")).to_have_count(1)
    page.get_by_label("Which agency stops being involved?").select_option(label="Hostel provider")
    page.get_by_label("What did the forum decide, and why?").fill("Done.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Select the forum meeting")
    expect(page.get_by_label("What did the forum decide, and why?")).to_have_value("Done.")
    assert CaseAgency.objects.filter(case=tom, agency=world["jo"].agency, left_at=None).exists()
