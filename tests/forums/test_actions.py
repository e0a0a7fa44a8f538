"""Actions agreed at a meeting: who owns them, when they are due, progress, RAG status."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from csf_portal.errors import ConcurrentEdit, DomainError, NotAllowed
from csf_portal.models import Notification, Role
from forums import services
from forums.models import Action, SystemIssue
from tests.factories import UserFactory, set_up
from tests.forums.conftest import FAMILY_NAME, GIVEN_NAME, add_case, in_days, plan, started

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

TODAY = datetime.date(2027, 3, 10)


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def meeting(w):
    meeting = started(w.chair, w.csf)
    w.item = add_case(w.chair, meeting, w.case)
    return meeting


def add(w, meeting, **fields) -> Action:
    fields = {
        "description": "Arrange a joint visit with the community mental health team",
        "owner_agency": w.hostel,
        "owner": w.hostel_worker,
        "due_on": days(14),
        "item": getattr(w, "item", None),
    } | fields
    return services.action_add(actor=w.chair, meeting=meeting, **fields)


def update(actor, action, **fields) -> Action:
    action.refresh_from_db()
    fields = {"status": "in_progress", "note": "Visit booked", "expected_version": action.version}
    return services.action_update(actor=actor, action=action, **fields)


# --- adding -------------------------------------------------------------------------


def test_an_action_from_a_case_item_carries_the_case(w, meeting):
    action = add(w, meeting)
    action.refresh_from_db()
    assert (action.forum, action.meeting, action.item, action.case) == (
        w.csf,
        meeting,
        w.item,
        w.case,
    )
    assert (action.owner_agency, action.owner, action.status, action.version) == (
        w.hostel,
        w.hostel_worker,
        Action.Status.OPEN,
        1,
    )


def test_an_action_from_a_system_issue_item_carries_the_issue(w):
    with set_up():
        issue = SystemIssue.objects.create(
            title="No move-on beds",
            description="Hostels silt up.",
            theme="accommodation",
            raised_by=w.chair,
        )
    sog_meeting = started(w.chair, w.sog)
    item = services.agenda_item_add(actor=w.chair, meeting=sog_meeting, system_issue=issue)
    action = add(w, sog_meeting, item=item, owner_agency=w.housing, owner=w.housing_officer)
    assert action.system_issue == issue and action.case is None and action.forum == w.sog


def test_the_owner_must_work_for_the_owning_agency(w, meeting):
    with pytest.raises(DomainError, match="works for Hostel") as error:
        add(w, meeting, owner=w.police_officer)
    assert error.value.field == "owner"
    assert not Action.objects.exists()


def test_a_case_action_goes_only_to_an_agency_involved_or_invited(w, meeting):
    # Housing is neither involved in the case nor invited to its item: the service refuses
    # what the form would never offer (an admin or a later API goes through here too).
    with pytest.raises(DomainError, match="involved in the case or invited") as error:
        add(w, meeting, owner_agency=w.housing, owner=w.housing_officer)
    assert error.value.field == "owner"
    assert not Action.objects.exists()


def test_an_invited_agency_may_own_a_case_action(w):
    meeting = started(w.chair, w.csf)
    item = add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    action = add(w, meeting, item=item, owner_agency=w.police, owner=w.police_officer)
    assert action.owner == w.police_officer


def test_an_inactive_owner_is_refused(w, meeting):
    w.hostel_worker.is_active = False
    with set_up():
        w.hostel_worker.save(update_fields=["is_active"])
    with pytest.raises(DomainError) as error:
        add(w, meeting)
    assert error.value.field == "owner"


def test_the_due_date_is_on_or_after_the_meeting(w, meeting):
    with pytest.raises(DomainError, match="on or after the meeting") as error:
        add(w, meeting, due_on=timezone.localtime(meeting.starts_at).date() - datetime.timedelta(1))
    assert error.value.field == "due_on"
    same_day = add(w, meeting, due_on=timezone.localtime(meeting.starts_at).date())
    assert same_day.due_on == timezone.localtime(meeting.starts_at).date()


def test_the_due_date_is_within_a_year(w, meeting):
    with pytest.raises(DomainError, match="within a year"):
        add(w, meeting, due_on=days(400))


def test_an_action_needs_a_description(w, meeting):
    with pytest.raises(DomainError, match="Say what will be done") as error:
        add(w, meeting, description="   ")
    assert error.value.field == "description"


def test_the_item_must_belong_to_the_meeting(w, meeting):
    other = plan(w.chair, w.csf, in_days(-3))  # never the same day as `meeting`
    with pytest.raises(DomainError, match="item of this meeting"):
        add(w, other)


def test_only_the_chair_adds_actions(w, meeting):
    with pytest.raises(NotAllowed):
        services.action_add(
            actor=w.hostel_worker,
            meeting=meeting,
            description="x",
            owner_agency=w.hostel,
            owner=w.hostel_worker,
            due_on=days(7),
        )


def test_actions_are_added_once_the_meeting_has_started(w):
    future = plan(w.chair, w.csf, timezone.now() + datetime.timedelta(days=2))
    with pytest.raises(DomainError, match="once the meeting has started"):
        add(w, future, item=None, due_on=days(7))


def test_the_owner_is_told_without_naming_the_person(
    w, meeting, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action = add(w, meeting)
    note = Notification.objects.get()
    assert note.user == w.hostel_worker
    assert note.url == reverse("forums:action", args=[action.pk])
    assert f"{action.due_on:%-d %B %Y}" in note.text
    assert [m.to for m in mail.outbox] == [[w.hostel_worker.email]]
    for text in (note.text, mail.outbox[0].body, mail.outbox[0].subject):
        assert GIVEN_NAME not in text and FAMILY_NAME not in text
        assert "joint visit" not in text


def test_the_chair_is_not_told_of_their_own_action(w, meeting):
    add(w, meeting, owner_agency=w.safeguarding, owner=w.chair)
    assert not Notification.objects.exists()


# --- updating -------------------------------------------------------------------------


def test_the_owner_reports_progress(w, meeting):
    action = add(w, meeting)
    action = update(w.hostel_worker, action)
    assert (action.status, action.last_update_note, action.version) == (
        Action.Status.IN_PROGRESS,
        "Visit booked",
        2,
    )
    assert action.last_updated_at is not None


def test_a_colleague_in_the_owning_agency_may_update(w, meeting):
    action = add(w, meeting)
    assert update(w.hostel_colleague, action).status == Action.Status.IN_PROGRESS


def test_the_chair_may_update(w, meeting):
    action = add(w, meeting)
    assert update(w.chair, action).version == 2


@pytest.mark.parametrize("who", ["police_officer", "member", "housing_officer"])
def test_others_may_not_update(w, meeting, who):
    action = add(w, meeting)
    with pytest.raises(NotAllowed):
        update(getattr(w, who), action)
    action.refresh_from_db()
    assert (action.status, action.version) == (Action.Status.OPEN, 1)


def test_a_commissioner_in_the_owning_agency_may_not_update(w, meeting):
    commissioner = UserFactory(agency=w.hostel, roles=[Role.COMMISSIONER])
    action = add(w, meeting)
    with pytest.raises(NotAllowed):
        update(commissioner, action)


def test_a_stale_update_is_refused(w, meeting):
    action = add(w, meeting)
    services.action_update(
        actor=w.hostel_worker, action=action, status="in_progress", note="First", expected_version=1
    )
    with pytest.raises(ConcurrentEdit, match="Someone else updated this action"):
        services.action_update(
            actor=w.hostel_colleague,
            action=action,
            status="done",
            note="Second",
            expected_version=1,
        )
    action.refresh_from_db()
    assert (action.status, action.last_update_note, action.version) == ("in_progress", "First", 2)


def test_a_stale_update_on_the_page_keeps_the_note_and_offers_the_new_version(w, meeting, as_user):
    action = add(w, meeting)
    services.action_update(
        actor=w.hostel_worker, action=action, status="in_progress", note="First", expected_version=1
    )
    url = reverse("forums:action", args=[action.pk])
    typed = {"status": "done", "note": "Visited on Tuesday", "version": 1}
    page = as_user(w.hostel_colleague).post(url, typed).content.decode()
    assert "Someone else updated this action" in page
    assert "Visited on Tuesday" in page and 'name="version" value="2"' in page
    action.refresh_from_db()
    assert (action.status, action.version) == ("in_progress", 2)
    assert as_user(w.hostel_colleague).post(url, typed | {"version": 2}).status_code == 302
    action.refresh_from_db()
    assert (action.status, action.last_update_note, action.version) == (
        "done",
        "Visited on Tuesday",
        3,
    )


def test_an_update_needs_a_note(w, meeting):
    action = add(w, meeting)
    with pytest.raises(DomainError, match="Say what has happened") as error:
        services.action_update(
            actor=w.hostel_worker, action=action, status="done", note=" ", expected_version=1
        )
    assert error.value.field == "note"


def test_done_records_when_and_reopening_clears_it(w, meeting):
    action = add(w, meeting)
    services.action_update(
        actor=w.hostel_worker, action=action, status="done", note="Visited", expected_version=1
    )
    action.refresh_from_db()
    assert action.status == Action.Status.DONE and action.completed_on == timezone.localdate()
    assert action.completed_in_time is True
    services.action_update(
        actor=w.hostel_worker,
        action=action,
        status="open",
        note="Needs another",
        expected_version=2,
    )
    action.refresh_from_db()
    assert action.completed_on is None and action.completed_in_time is None


def test_dropped_keeps_the_reason(w, meeting):
    action = add(w, meeting)
    services.action_update(
        actor=w.hostel_worker,
        action=action,
        status="dropped",
        note="The person moved out of the area",
        expected_version=1,
    )
    action.refresh_from_db()
    assert action.status == Action.Status.DROPPED
    assert action.status_reason == "The person moved out of the area"
    assert not action.is_open


def test_only_the_chair_changes_the_due_date(w, meeting):
    action = add(w, meeting)
    with pytest.raises(NotAllowed, match="due date"):
        services.action_update(
            actor=w.hostel_worker,
            action=action,
            status="open",
            note="Need longer",
            expected_version=1,
            due_on=days(60),
        )
    action.refresh_from_db()
    assert action.due_on == days(14) and action.version == 1
    services.action_update(
        actor=w.chair,
        action=action,
        status="open",
        note="Agreed more time",
        expected_version=1,
        due_on=days(60),
    )
    action.refresh_from_db()
    assert action.due_on == days(60)


def test_an_owner_may_send_the_same_due_date_back(w, meeting):
    action = add(w, meeting)
    services.action_update(
        actor=w.hostel_worker,
        action=action,
        status="open",
        note="Still on",
        expected_version=1,
        due_on=action.due_on,
    )
    action.refresh_from_db()
    assert action.version == 2


# --- RAG status and overdue (derived, never stored) -------------------------------------


def build(due_in: int, status: str = Action.Status.OPEN) -> Action:
    return Action(due_on=TODAY + datetime.timedelta(days=due_in), status=status)


@pytest.mark.parametrize(
    ("due_in", "status", "rag"),
    [
        (-1, "open", Action.Rag.RED),
        (-30, "in_progress", Action.Rag.RED),
        (0, "open", Action.Rag.AMBER),
        (14, "open", Action.Rag.AMBER),
        (15, "in_progress", Action.Rag.GREEN),
        (90, "open", Action.Rag.GREEN),
        (-5, "done", Action.Rag.COMPLETE),
        (30, "done", Action.Rag.COMPLETE),
        (-5, "dropped", Action.Rag.DROPPED),
        (30, "dropped", Action.Rag.DROPPED),
    ],
)
def test_rag(due_in, status, rag):
    assert build(due_in, status).rag(TODAY) == rag


@pytest.mark.parametrize(
    ("due_in", "status", "overdue"),
    [
        (-1, "open", True),
        (-1, "in_progress", True),
        (0, "open", False),
        (5, "open", False),
        (-1, "done", False),
        (-1, "dropped", False),
    ],
)
def test_is_overdue(due_in, status, overdue):
    assert build(due_in, status).is_overdue(TODAY) is overdue


def test_rag_defaults_to_today():
    overdue = Action(due_on=timezone.localdate() - datetime.timedelta(days=1), status="open")
    assert overdue.rag() == Action.Rag.RED and overdue.rag_status == "red"
    assert overdue.rag_label == "Red: overdue"
    assert overdue.is_overdue()


def test_completed_in_time():
    late = Action(due_on=TODAY, status="done", completed_on=TODAY + datetime.timedelta(days=1))
    on_time = Action(due_on=TODAY, status="done", completed_on=TODAY)
    assert late.completed_in_time is False and on_time.completed_in_time is True


# --- the action log's filters -------------------------------------------------------


def test_the_action_log_keeps_the_chosen_filters_selected(w, meeting):
    from tests.conftest import signed_in_client

    add(w, meeting)
    client = signed_in_client(w.hostel_worker)
    wanted = {"forum": "csf", "agency": str(w.hostel.pk), "status": "overdue", "theme": ""}
    page = client.get(reverse("forums:actions"), wanted).content.decode()
    selected = re.findall(r'<select[^>]* name="(\w+)">(.*?)</select>', page)
    chosen = {
        name: re.findall(r'<option value="([^"]*)" selected>', options)
        for name, options in selected
    }
    assert chosen == {name: [value] for name, value in wanted.items()}
    # Every owning agency is offered; with no filter asked for, each shows its "all".
    unfiltered = client.get(reverse("forums:actions")).content.decode()
    assert f'<option value="{w.hostel.pk}">Hostel</option>' in unfiltered
    assert re.findall(r'<option value="([^"]*)" selected>', unfiltered) == [""] * 4
