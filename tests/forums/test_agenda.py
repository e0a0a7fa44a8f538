"""The agenda: what a CSF or SOG item may be, presenters, the 3-6 norm, order, publication."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.models import Notification
from forums import selectors, services
from forums.models import AgendaItem, Invitation, Meeting, SystemIssue
from tests.factories import CaseFactory, set_up
from tests.forums.conftest import (
    FAMILY_NAME,
    GIVEN_NAME,
    add_case,
    chairs_case,
    in_days,
    plan,
    started,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def meeting(w):
    """Tomorrow's CSF meeting, planned, agenda not yet published."""
    return plan(w.chair, w.csf, in_days(1))


def _orders(meeting):
    return list(AgendaItem.objects.filter(meeting=meeting).values_list("pk", "order"))


# --- what an item may be ---------------------------------------------------------


def test_a_csf_item_is_a_case_numbered_in_order(w, meeting):
    first = add_case(w.chair, meeting, w.case)
    second = add_case(w.chair, meeting, chairs_case(w.chair))
    assert (first.order, second.order) == (1, 2)
    assert first.case == w.case and first.heading == "Case discussion"


def test_a_csf_item_needs_a_case(w, meeting):
    with pytest.raises(DomainError, match="Choose a case") as error:
        services.agenda_item_add(actor=w.chair, meeting=meeting)
    assert error.value.field == "case"


def test_a_closed_case_cannot_go_on_the_agenda(w, meeting):
    closed = CaseFactory(state=Case.State.CLOSED)
    with pytest.raises(DomainError, match="closed") as error:
        add_case(w.chair, meeting, closed)
    assert error.value.field == "case"
    assert not meeting.items.exists()


def test_a_case_goes_on_a_meeting_only_once(w, meeting):
    add_case(w.chair, meeting, w.case)
    with pytest.raises(DomainError, match="already on the agenda"):
        add_case(w.chair, meeting, w.case)
    assert meeting.items.count() == 1


def test_the_same_case_may_go_on_the_next_meeting(w, meeting):
    add_case(w.chair, meeting, w.case)
    later = plan(w.chair, w.csf, in_days(30))
    assert add_case(w.chair, later, w.case).case == w.case


def test_the_sog_does_not_discuss_people(w):
    sog_meeting = plan(w.chair, w.sog, in_days(2))
    with pytest.raises(DomainError, match="discusses issues, not people") as error:
        add_case(w.chair, sog_meeting, w.case)
    assert error.value.field == "case"
    assert not sog_meeting.items.exists()


def test_the_sog_takes_a_topic_or_a_system_issue(w):
    sog_meeting = plan(w.chair, w.sog, in_days(2))
    with set_up():
        issue = SystemIssue.objects.create(
            title="No move-on beds",
            description="Hostels are silting up.",
            theme="accommodation",
            raised_by=w.chair,
        )
    topic = services.agenda_item_add(
        actor=w.chair, meeting=sog_meeting, topic="Hospital discharge to no fixed abode"
    )
    about_issue = services.agenda_item_add(actor=w.chair, meeting=sog_meeting, system_issue=issue)
    assert topic.heading == "Hospital discharge to no fixed abode"
    assert about_issue.heading == "System issue: No move-on beds"
    with pytest.raises(DomainError, match="topic or a system issue") as error:
        services.agenda_item_add(actor=w.chair, meeting=sog_meeting)
    assert error.value.field == "topic"


def test_services_are_invited_to_a_case_discussion_only(w):
    sog_meeting = plan(w.chair, w.sog, in_days(2))
    with pytest.raises(DomainError, match="invited to a case discussion"):
        services.agenda_item_add(
            actor=w.chair, meeting=sog_meeting, topic="Thresholds", invited_agencies=[w.police]
        )


def test_only_the_chair_adds_items(w, meeting):
    with pytest.raises(NotAllowed):
        add_case(w.hostel_worker, meeting, w.case)
    with pytest.raises(NotAllowed):
        add_case(w.member, meeting, w.case)
    assert not meeting.items.exists()


# --- presenters and invitations ----------------------------------------------------


def test_a_presenter_from_an_involved_agency(w, meeting):
    item = add_case(w.chair, meeting, w.case, presenter=w.hostel_worker)
    assert item.presenter == w.hostel_worker


def test_a_presenter_from_an_invited_agency(w, meeting):
    item = add_case(
        w.chair, meeting, w.case, presenter=w.police_officer, invited_agencies=[w.police]
    )
    assert item.presenter == w.police_officer
    assert list(item.invitations.values_list("agency", "invited_by")) == [(w.police.pk, w.chair.pk)]


def test_a_presenter_from_an_agency_neither_involved_nor_invited_is_refused(w, meeting):
    with pytest.raises(DomainError, match="presenting practitioner") as error:
        add_case(w.chair, meeting, w.case, presenter=w.housing_officer, invited_agencies=[w.police])
    assert error.value.field == "presenter"
    assert not meeting.items.exists() and not Invitation.objects.exists()


def test_updating_an_item_checks_the_presenter_and_sets_invitations_exactly(w, meeting):
    item = add_case(w.chair, meeting, w.case, invited_agencies=[w.police, w.housing])
    with pytest.raises(DomainError, match="presenting practitioner"):
        services.agenda_item_update(
            actor=w.chair,
            item=item,
            presenter=w.housing_officer,
            starts_at=None,
            minutes_allowed=20,
            invited_agencies=[w.police],  # housing no longer invited
        )
    services.agenda_item_update(
        actor=w.chair,
        item=item,
        presenter=w.police_officer,
        starts_at=datetime.time(10, 30),
        minutes_allowed=30,
        invited_agencies=[w.police],
    )
    item.refresh_from_db()
    assert set(item.invitations.values_list("agency", flat=True)) == {w.police.pk}
    assert (item.presenter, item.starts_at, item.minutes_allowed) == (
        w.police_officer,
        datetime.time(10, 30),
        30,
    )


@pytest.mark.parametrize("minutes", [4, 181])
def test_the_time_allowed_is_between_5_and_180_minutes(w, meeting, minutes):
    with pytest.raises(DomainError, match="between 5 and 180") as error:
        add_case(w.chair, meeting, w.case, minutes_allowed=minutes)
    assert error.value.field == "minutes_allowed"


# --- the 3-to-6 norm: advice, never a rule -------------------------------------------


def _with_cases(w, meeting, count):
    for _ in range(count):
        add_case(w.chair, meeting, chairs_case(w.chair))


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 cases"), (1, "1 case:"), (2, "2 cases")],
)
def test_fewer_than_three_cases_is_warned(w, meeting, count, expected):
    _with_cases(w, meeting, count)
    warnings = selectors.agenda_warnings(meeting)
    assert len(warnings) == 1
    assert expected in warnings[0] and "3 to 6 is usual" in warnings[0]


@pytest.mark.parametrize("count", [3, 4, 5, 6])
def test_three_to_six_cases_is_the_norm(w, meeting, count):
    _with_cases(w, meeting, count)
    assert selectors.agenda_warnings(meeting) == []


def test_a_seventh_case_is_added_with_a_warning(w, meeting):
    _with_cases(w, meeting, 6)
    seventh = add_case(w.chair, meeting, w.case)
    assert seventh.order == 7
    warnings = selectors.agenda_warnings(meeting)
    assert len(warnings) == 1 and "7 cases" in warnings[0] and "more than 6" in warnings[0]


def test_topics_do_not_count_as_cases(w, meeting):
    _with_cases(w, meeting, 2)
    services.agenda_item_add(actor=w.chair, meeting=meeting, topic="Learning from a review")
    assert "2 cases" in selectors.agenda_warnings(meeting)[0]


def test_the_sog_has_no_case_norm(w):
    sog_meeting = plan(w.chair, w.sog, in_days(2))
    services.agenda_item_add(actor=w.chair, meeting=sog_meeting, topic="Thresholds")
    assert selectors.agenda_warnings(sog_meeting) == []


# --- order and removal -----------------------------------------------------------------


def test_moving_items_up_and_down(w, meeting):
    a, b, c = (add_case(w.chair, meeting, chairs_case(w.chair)) for _ in range(3))
    services.agenda_item_move(actor=w.chair, item=c, up=True)
    assert _orders(meeting) == [(a.pk, 1), (c.pk, 2), (b.pk, 3)]
    services.agenda_item_move(actor=w.chair, item=a, up=False)
    assert _orders(meeting) == [(c.pk, 1), (a.pk, 2), (b.pk, 3)]


def test_moving_past_either_end_changes_nothing(w, meeting):
    a, b = (add_case(w.chair, meeting, chairs_case(w.chair)) for _ in range(2))
    services.agenda_item_move(actor=w.chair, item=a, up=True)
    services.agenda_item_move(actor=w.chair, item=b, up=False)
    assert _orders(meeting) == [(a.pk, 1), (b.pk, 2)]


def test_only_the_chair_moves_items(w, meeting):
    a, b = (add_case(w.chair, meeting, chairs_case(w.chair)) for _ in range(2))
    with pytest.raises(NotAllowed):
        services.agenda_item_move(actor=w.hostel_worker, item=b, up=True)
    assert _orders(meeting) == [(a.pk, 1), (b.pk, 2)]


def test_removing_an_item_renumbers_the_rest(w, meeting):
    a, b, c = (add_case(w.chair, meeting, chairs_case(w.chair)) for _ in range(3))
    with set_up():
        b.invitations.create(agency=w.police, invited_by=w.chair)
    services.agenda_item_remove(actor=w.chair, item=b)
    assert _orders(meeting) == [(a.pk, 1), (c.pk, 2)]
    assert not Invitation.objects.filter(item_id=b.pk).exists()


def test_an_item_with_minutes_stays_on_the_record(w):
    meeting = started(w.chair, w.csf)
    item = add_case(w.chair, meeting, w.case)
    services.item_minutes_save(
        actor=w.chair, item=item, minutes="Hostel to keep the bed open.", expected_version=0
    )
    with pytest.raises(DomainError, match="stays on the record"):
        services.agenda_item_remove(actor=w.chair, item=item)
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_an_item_with_an_action_stays_on_the_record(w):
    meeting = started(w.chair, w.csf)
    item = add_case(w.chair, meeting, w.case)
    services.action_add(
        actor=w.chair,
        meeting=meeting,
        item=item,
        description="Book a joint visit",
        owner_agency=w.hostel,
        owner=w.hostel_worker,
        due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    with pytest.raises(DomainError, match="stays on the record"):
        services.agenda_item_remove(actor=w.chair, item=item)
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_an_item_with_a_decision_stays_on_the_record(w):
    meeting = started(w.chair, w.csf)
    item = add_case(w.chair, meeting, w.case)
    services.agenda_publish(actor=w.chair, meeting=meeting)
    services.item_decision_record(
        actor=w.chair, item=item, kind="other", summary="Agreed to seek a Care Act assessment."
    )
    with pytest.raises(DomainError, match="stays on the record"):
        services.agenda_item_remove(actor=w.chair, item=item)
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_the_agenda_cannot_change_once_the_meeting_is_held(w):
    meeting = started(w.chair, w.csf)
    a, b = (add_case(w.chair, meeting, chairs_case(w.chair)) for _ in range(2))
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition):
        add_case(w.chair, meeting, w.case)
    with pytest.raises(InvalidTransition):
        services.agenda_item_move(actor=w.chair, item=b, up=True)
    with pytest.raises(InvalidTransition):
        services.agenda_item_remove(actor=w.chair, item=a)
    with pytest.raises(InvalidTransition):
        services.agenda_item_update(
            actor=w.chair, item=a, presenter=None, starts_at=None, minutes_allowed=20
        )
    assert _orders(meeting) == [(a.pk, 1), (b.pk, 2)]


# --- publication -------------------------------------------------------------------------


def test_an_empty_agenda_cannot_be_published(w, meeting):
    with pytest.raises(DomainError, match="at least one item"):
        services.agenda_publish(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.PLANNED and meeting.agenda_published_at is None


def test_publishing_opens_the_access_window_until_the_end_of_the_meeting_day(w, meeting):
    add_case(w.chair, meeting, w.case)
    before = timezone.now()
    services.agenda_publish(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.AGENDA_PUBLISHED
    assert before <= meeting.agenda_published_at <= timezone.now()
    end = timezone.localtime(meeting.access_ends_at)
    assert end.date() == timezone.localtime(meeting.ends_at).date()
    assert (end.hour, end.minute, end.second) == (23, 59, 59)


def test_an_agenda_is_published_once(w, meeting):
    add_case(w.chair, meeting, w.case)
    services.agenda_publish(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition, match="already been published"):
        services.agenda_publish(actor=w.chair, meeting=meeting)


def test_only_the_chair_publishes(w, meeting):
    add_case(w.chair, meeting, w.case)
    with pytest.raises(NotAllowed):
        services.agenda_publish(actor=w.member, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.PLANNED


def test_publishing_tells_members_invitees_and_presenters_without_naming_anyone(
    w, meeting, django_capture_on_commit_callbacks
):
    add_case(
        w.chair,
        meeting,
        w.case,
        presenter=w.hostel_worker,
        invited_agencies=[w.police],
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_publish(actor=w.chair, meeting=meeting)

    told = {w.member, w.hostel_worker, w.police_officer}
    notes = Notification.objects.all()
    assert {n.user for n in notes} == told  # not the chair, housing, the commissioner
    assert len(notes) == len(told)
    url = reverse("forums:meeting", args=[meeting.pk])
    for note in notes:
        assert note.url == url
        assert "agenda" in note.text
        assert GIVEN_NAME not in note.text and FAMILY_NAME not in note.text

    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in told)
    for message in mail.outbox:
        assert GIVEN_NAME not in message.body + message.subject
        assert FAMILY_NAME not in message.body + message.subject


def test_a_late_invitation_to_a_published_agenda_is_told(
    w, meeting, django_capture_on_commit_callbacks
):
    add_case(w.chair, meeting, chairs_case(w.chair))
    services.agenda_publish(actor=w.chair, meeting=meeting)
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    assert [n.user for n in Notification.objects.all()] == [w.police_officer]
    assert "invited to a case discussion" in Notification.objects.get().text
    assert [m.to for m in mail.outbox] == [[w.police_officer.email]]
    assert GIVEN_NAME not in mail.outbox[0].body and FAMILY_NAME not in mail.outbox[0].body


def test_nobody_is_told_before_publication(w, meeting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        add_case(w.chair, meeting, w.case, invited_agencies=[w.police], presenter=w.hostel_worker)
    assert not Notification.objects.exists()
    assert mail.outbox == []
