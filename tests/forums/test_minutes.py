"""The meeting itself: attendance, held, minutes with optimistic locking, approval, amendments,
and the decisions that carry out an agency leaving a case or a risk (no hand-offs).
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

import access
from cases import services as case_services
from cases.models import CarePlan, CaseAgency, RiskOwner
from csf_portal.errors import (
    ConcurrentEdit,
    DomainError,
    HandOffRefused,
    InvalidTransition,
    NotAllowed,
)
from forums import services
from forums.models import Attendance, ForumDecision, Meeting, MinutesAmendment
from tests.forums.conftest import add_case, chairs_case, in_days, plan, started

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(w):
    """A CSF meeting under way: the case is item 1 (hostel presenting, police invited)."""
    meeting = started(w.chair, w.csf)
    w.item = add_case(
        w.chair, meeting, w.case, presenter=w.hostel_worker, invited_agencies=[w.police]
    )
    services.agenda_publish(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    return meeting


def held_with_minutes(w, meeting):
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    services.item_minutes_save(
        actor=w.chair, item=w.item, minutes="Hostel keeps the bed open.", expected_version=0
    )
    meeting.refresh_from_db()
    return meeting


# --- attendance ------------------------------------------------------------------


def test_members_invitees_presenters_and_the_chair_attend(w, meeting):
    for person in (w.member, w.police_officer, w.hostel_worker, w.chair):
        services.attendance_record(actor=w.chair, meeting=meeting, user=person)
    assert set(Attendance.objects.values_list("user", "agency")) == {
        (w.member.pk, w.mental_health.pk),
        (w.police_officer.pk, w.police.pk),
        (w.hostel_worker.pk, w.hostel.pk),
        (w.chair.pk, w.safeguarding.pk),
    }


def test_someone_with_no_place_at_the_meeting_is_refused(w, meeting):
    for outsider in (w.housing_officer, w.hostel_colleague):
        with pytest.raises(DomainError, match="invite their service") as error:
            services.attendance_record(actor=w.chair, meeting=meeting, user=outsider)
        assert error.value.field == "user"
    assert not Attendance.objects.exists()


def test_a_duplicate_attendance_is_refused_clearly(w, meeting):
    services.attendance_record(actor=w.chair, meeting=meeting, user=w.police_officer)
    with pytest.raises(DomainError, match="already recorded for the whole meeting") as error:
        services.attendance_record(
            actor=w.chair, meeting=meeting, user=w.police_officer, status="apologies"
        )
    assert error.value.field == "user"
    assert Attendance.objects.get().status == Attendance.Status.PRESENT


def test_attending_one_item_is_recorded_apart_and_once(w, meeting):
    services.attendance_record(actor=w.chair, meeting=meeting, user=w.police_officer)
    services.attendance_record(actor=w.chair, meeting=meeting, user=w.police_officer, item=w.item)
    with pytest.raises(DomainError, match="already recorded for this item"):
        services.attendance_record(
            actor=w.chair, meeting=meeting, user=w.police_officer, item=w.item
        )
    assert Attendance.objects.filter(user=w.police_officer).count() == 2


def test_an_item_of_another_meeting_is_refused(w, meeting):
    other = plan(w.chair, w.csf, in_days(-3))  # never the same day as `meeting`
    other_item = add_case(w.chair, other, w.case)
    with pytest.raises(DomainError, match="item of this meeting"):
        services.attendance_record(actor=w.chair, meeting=meeting, user=w.member, item=other_item)


def test_attendance_is_recorded_only_once_the_meeting_has_started(w):
    future = plan(w.chair, w.csf, in_days(1))
    with pytest.raises(DomainError, match="once the meeting has started"):
        services.attendance_record(actor=w.chair, meeting=future, user=w.chair)
    assert not Attendance.objects.exists()


def test_only_the_chair_records_attendance(w, meeting):
    with pytest.raises(NotAllowed):
        services.attendance_record(actor=w.member, meeting=meeting, user=w.member)


def test_apologies_are_recorded(w, meeting):
    attendance = services.attendance_record(
        actor=w.chair, meeting=meeting, user=w.member, status="apologies"
    )
    assert attendance.status == Attendance.Status.APOLOGIES
    assert attendance.recorded_by == w.chair


# --- held ---------------------------------------------------------------------------


def test_a_meeting_is_held_only_once_it_has_started(w):
    future = plan(w.chair, w.csf, in_days(1))
    with pytest.raises(DomainError, match="once it has started"):
        services.meeting_mark_held(actor=w.chair, meeting=future)
    future.refresh_from_db()
    assert future.state == Meeting.State.PLANNED


def test_marking_held(w, meeting):
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.HELD
    with pytest.raises(InvalidTransition, match="already been recorded as held"):
        services.meeting_mark_held(actor=w.chair, meeting=meeting)


def test_only_the_chair_marks_a_meeting_held(w, meeting):
    with pytest.raises(NotAllowed):
        services.meeting_mark_held(actor=w.hostel_worker, meeting=meeting)


# --- minutes ---------------------------------------------------------------------------


def test_minutes_are_saved_with_a_version(w, meeting):
    item = services.item_minutes_save(
        actor=w.chair, item=w.item, minutes="  First draft.  ", expected_version=0
    )
    assert (item.minutes, item.minutes_version) == ("First draft.", 1)
    item = services.item_minutes_save(
        actor=w.chair, item=item, minutes="Second draft.", expected_version=1
    )
    assert (item.minutes, item.minutes_version) == ("Second draft.", 2)


def test_a_stale_edit_of_the_minutes_is_refused(w, meeting):
    services.item_minutes_save(
        actor=w.chair, item=w.item, minutes="Jo's version.", expected_version=0
    )
    with pytest.raises(ConcurrentEdit, match="Someone else changed these minutes"):
        services.item_minutes_save(
            actor=w.chair, item=w.item, minutes="Sam's version.", expected_version=0
        )
    w.item.refresh_from_db()
    assert (w.item.minutes, w.item.minutes_version) == ("Jo's version.", 1)


def test_a_stale_edit_on_the_page_shows_their_minutes_and_keeps_yours_beside(w, meeting, as_user):
    services.item_minutes_save(
        actor=w.chair, item=w.item, minutes="Jo's version.", expected_version=0
    )
    url = reverse("forums:item", args=[meeting.pk, w.item.pk])
    page = as_user(w.chair).post(url, {"minutes": "Sam's text.", "minutes_version": 0})
    body = page.content.decode()
    assert "Someone else changed these minutes" in body
    assert "What you wrote (not saved)" in body and "Sam&#x27;s text." in body
    assert "Jo&#x27;s version.</textarea>" in body and 'name="minutes_version" value="1"' in body
    w.item.refresh_from_db()
    assert (w.item.minutes, w.item.minutes_version) == ("Jo's version.", 1)


def test_empty_minutes_are_refused(w, meeting):
    with pytest.raises(DomainError, match="Write the minutes") as error:
        services.item_minutes_save(actor=w.chair, item=w.item, minutes="  ", expected_version=0)
    assert error.value.field == "minutes"


def test_minutes_are_written_once_the_meeting_has_started(w):
    future = plan(w.chair, w.csf, in_days(1))
    item = add_case(w.chair, future, w.case)
    with pytest.raises(DomainError, match="once the meeting has started"):
        services.item_minutes_save(actor=w.chair, item=item, minutes="Early", expected_version=0)


def test_only_the_chair_writes_minutes(w, meeting):
    with pytest.raises(NotAllowed):
        services.item_minutes_save(
            actor=w.member, item=w.item, minutes="By a member", expected_version=0
        )


# --- approval and amendments -----------------------------------------------------------------


def test_minutes_are_approved_once_the_meeting_is_held(w, meeting):
    services.item_minutes_save(actor=w.chair, item=w.item, minutes="Done", expected_version=0)
    with pytest.raises(InvalidTransition, match="once the meeting has been recorded as held"):
        services.minutes_approve(actor=w.chair, meeting=meeting)


def test_minutes_are_not_approved_while_an_item_has_none(w, meeting):
    second = add_case(w.chair, meeting, chairs_case(w.chair))
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    services.item_minutes_save(actor=w.chair, item=w.item, minutes="Done", expected_version=0)
    with pytest.raises(DomainError, match=f"item {second.order} before approving"):
        services.minutes_approve(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.HELD and meeting.minutes_approved_at is None


def test_approving_the_minutes(w, meeting):
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_APPROVED
    assert meeting.minutes_approved_by == w.chair and meeting.minutes_approved_at is not None
    assert meeting.minutes_locked
    with pytest.raises(InvalidTransition, match="already been approved"):
        services.minutes_approve(actor=w.chair, meeting=meeting)


def test_only_the_chair_approves_minutes(w, meeting):
    held_with_minutes(w, meeting)
    with pytest.raises(NotAllowed):
        services.minutes_approve(actor=w.member, meeting=meeting)


def test_approved_minutes_are_read_only(w, meeting):
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition, match="read-only"):
        services.item_minutes_save(actor=w.chair, item=w.item, minutes="New", expected_version=1)
    with pytest.raises(InvalidTransition):
        services.action_add(
            actor=w.chair,
            meeting=meeting,
            item=w.item,
            description="Late action",
            owner_agency=w.hostel,
            owner=w.hostel_worker,
            due_on=timezone.localdate() + datetime.timedelta(days=7),
        )
    with pytest.raises(InvalidTransition):
        services.item_decision_record(
            actor=w.chair, item=w.item, kind="other", summary="Late decision"
        )
    with pytest.raises(InvalidTransition):
        services.forum_decision_record(
            actor=w.chair, meeting=meeting, kind="other", summary="Late decision"
        )
    with pytest.raises(InvalidTransition):
        services.attendance_record(actor=w.chair, meeting=meeting, user=w.member)
    w.item.refresh_from_db()
    assert w.item.minutes == "Hostel keeps the bed open."
    assert not meeting.actions.exists() and not meeting.decisions.exists()
    assert not meeting.attendance.exists()


def test_attendance_cannot_be_removed_after_approval(w, meeting):
    attendance = services.attendance_record(actor=w.chair, meeting=meeting, user=w.member)
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition):
        services.attendance_remove(actor=w.chair, attendance=attendance)
    assert Attendance.objects.filter(pk=attendance.pk).exists()


def test_approved_minutes_are_corrected_by_an_amendment(w, meeting):
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    amendment = services.minutes_amend(
        actor=w.chair, meeting=meeting, item=w.item, text="The bed is held for 28 days, not 14."
    )
    assert amendment.made_by == w.chair and amendment.item == w.item
    w.item.refresh_from_db()
    assert w.item.minutes == "Hostel keeps the bed open."  # the approved text stays


def test_an_amendment_needs_text_and_an_item_of_the_meeting(w, meeting):
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    with pytest.raises(DomainError, match="Write the correction"):
        services.minutes_amend(actor=w.chair, meeting=meeting, text=" ")
    other_item = add_case(w.chair, plan(w.chair, w.csf, in_days(3)), w.case)
    with pytest.raises(DomainError, match="item of this meeting"):
        services.minutes_amend(actor=w.chair, meeting=meeting, text="Fix", item=other_item)
    assert not MinutesAmendment.objects.exists()


def test_open_minutes_are_edited_not_amended(w, meeting):
    held_with_minutes(w, meeting)
    with pytest.raises(InvalidTransition, match="still open"):
        services.minutes_amend(actor=w.chair, meeting=meeting, text="A correction")
    assert not MinutesAmendment.objects.exists()


# --- decisions from an item ------------------------------------------------------------------


def test_a_decision_makes_an_agency_leave_the_case(w, meeting):
    assert access.can_view_case(w.hostel_worker, w.case)
    decision = services.item_decision_record(
        actor=w.chair,
        item=w.item,
        kind=ForumDecision.Kind.AGENCY_LEAVES_CASE,
        summary="The hostel's work is done; adult social care carries on.",
        agency=w.hostel,
    )
    assert (decision.item, decision.case, decision.agency, decision.decided_by) == (
        w.item,
        w.case,
        w.hostel,
        w.chair,
    )
    assert decision.meeting == meeting
    involvement = CaseAgency.objects.get(case=w.case, agency=w.hostel)
    assert involvement.left_at is not None and involvement.left_by_decision == decision
    assert not access.can_view_case(w.hostel_worker, w.case)
    assert not access.cases_visible_to(user=w.hostel_worker).exists()


def test_an_agency_that_owns_open_risks_cannot_leave_and_no_decision_is_left(w, meeting):
    risk = case_services.risk_add(actor=w.chair, case=w.case, category="eviction", level="medium")
    case_services.risk_owner_add(
        actor=w.chair, risk=risk, agency=w.hostel, accepted_by=w.hostel_worker
    )
    with pytest.raises(HandOffRefused, match="still owns open risks"):
        services.item_decision_record(
            actor=w.chair,
            item=w.item,
            kind=ForumDecision.Kind.AGENCY_LEAVES_CASE,
            summary="Hostel leaves.",
            agency=w.hostel,
        )
    assert not ForumDecision.objects.exists()
    assert CaseAgency.objects.get(case=w.case, agency=w.hostel).left_at is None


def test_leaving_needs_the_agency(w, meeting):
    with pytest.raises(DomainError, match="Choose the agency"):
        services.item_decision_record(
            actor=w.chair, item=w.item, kind=ForumDecision.Kind.AGENCY_LEAVES_CASE, summary="x"
        )


def test_only_the_chair_records_a_decision(w, meeting):
    with pytest.raises(NotAllowed):
        services.item_decision_record(
            actor=w.hostel_worker,
            item=w.item,
            kind=ForumDecision.Kind.AGENCY_LEAVES_CASE,
            summary="We are leaving.",
            agency=w.hostel,
        )
    assert not ForumDecision.objects.exists()
    assert CaseAgency.objects.get(case=w.case, agency=w.hostel).left_at is None


def test_a_decision_needs_a_summary(w, meeting):
    with pytest.raises(DomainError, match="Say what was decided") as error:
        services.item_decision_record(actor=w.chair, item=w.item, kind="other", summary=" ")
    assert error.value.field == "summary"


def test_decisions_are_recorded_once_the_meeting_has_started(w):
    future = plan(w.chair, w.csf, in_days(1))
    item = add_case(w.chair, future, w.case)
    with pytest.raises(DomainError, match="once the meeting has started"):
        services.item_decision_record(actor=w.chair, item=item, kind="other", summary="Early")
    assert not ForumDecision.objects.exists()


@pytest.fixture
def shared_risk(w):
    """A high risk of eviction owned by the hostel and adult safeguarding."""
    risk = case_services.risk_add(actor=w.chair, case=w.case, category="eviction", level="high")
    hostel = case_services.risk_owner_add(
        actor=w.chair, risk=risk, agency=w.hostel, accepted_by=w.hostel_worker
    )
    safeguarding = case_services.risk_owner_add(
        actor=w.chair, risk=risk, agency=w.safeguarding, accepted_by=w.chair
    )
    return risk, hostel, safeguarding


def test_a_decision_removes_a_risk_owner(w, meeting, shared_risk):
    risk, hostel_owner, safeguarding_owner = shared_risk
    decision = services.item_decision_record(
        actor=w.chair,
        item=w.item,
        kind=ForumDecision.Kind.RISK_OWNER_LEAVES,
        summary="Safeguarding hands its share to the hostel's outreach team.",
        agency=w.safeguarding,
        risk=risk,
    )
    assert (decision.risk, decision.agency, decision.item, decision.case) == (
        risk,
        w.safeguarding,
        w.item,
        w.case,
    )
    safeguarding_owner.refresh_from_db()
    assert safeguarding_owner.ended_at is not None
    assert safeguarding_owner.ended_by_decision == decision
    assert list(RiskOwner.objects.filter(risk=risk, ended_at__isnull=True)) == [hostel_owner]


def test_the_last_owner_leaves_by_a_decision(w, meeting, shared_risk):
    risk, _, _ = shared_risk
    for agency in (w.safeguarding, w.hostel):
        services.item_decision_record(
            actor=w.chair,
            item=w.item,
            kind=ForumDecision.Kind.RISK_OWNER_LEAVES,
            summary="Risk closed down by the forum.",
            agency=agency,
            risk=risk,
        )
    assert not RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).exists()


def test_a_risk_owner_decision_needs_a_risk_of_this_case_and_an_owner(w, meeting, shared_risk):
    risk, _, _ = shared_risk
    with pytest.raises(DomainError, match="does not own this risk") as error:
        services.item_decision_record(
            actor=w.chair,
            item=w.item,
            kind="risk_owner_leaves",
            summary="x",
            agency=w.police,
            risk=risk,
        )
    assert error.value.field == "agency"
    with pytest.raises(DomainError, match="Choose the risk"):
        services.item_decision_record(
            actor=w.chair, item=w.item, kind="risk_owner_leaves", summary="x", agency=w.hostel
        )
    other_case_item = add_case(w.chair, meeting, chairs_case(w.chair))
    with pytest.raises(DomainError, match="Choose the risk"):
        services.item_decision_record(
            actor=w.chair,
            item=other_case_item,
            kind="risk_owner_leaves",
            summary="x",
            agency=w.hostel,
            risk=risk,
        )
    assert not ForumDecision.objects.exists()
    assert RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).count() == 2


def test_a_topic_item_takes_only_an_other_decision(w):
    sog_meeting = started(w.chair, w.sog)
    item = services.agenda_item_add(actor=w.chair, meeting=sog_meeting, topic="Thresholds")
    with pytest.raises(DomainError, match="about a case"):
        services.item_decision_record(
            actor=w.chair, item=item, kind="agency_leaves_case", summary="x", agency=w.hostel
        )
    decision = services.item_decision_record(
        actor=w.chair, item=item, kind="other", summary="Write to the ICB about thresholds."
    )
    assert decision.case is None and decision.item == item


# --- the care plan is agreed in the discussion -----------------------------------------------


def test_the_draft_care_plan_is_agreed_at_the_item(w, meeting):
    plan_ = case_services.care_plan_draft(actor=w.hostel_worker, case=w.case)
    case_services.care_plan_item_add(
        actor=w.hostel_worker,
        plan=plan_,
        expected_edit_version=plan_.edit_version,
        what="Keep the hostel bed open",
        agency=w.hostel,
    )
    agreed = services.item_care_plan_agree(actor=w.chair, item=w.item)
    assert agreed.pk == plan_.pk
    plan_.refresh_from_db()
    assert plan_.state == CarePlan.State.AGREED
    assert plan_.agreed_meeting == meeting and plan_.agreed_by == w.chair


def test_there_must_be_a_draft_to_agree(w, meeting):
    with pytest.raises(DomainError, match="no draft care plan"):
        services.item_care_plan_agree(actor=w.chair, item=w.item)


def test_only_the_chair_agrees_a_plan(w, meeting):
    plan_ = case_services.care_plan_draft(actor=w.hostel_worker, case=w.case)
    case_services.care_plan_item_add(
        actor=w.hostel_worker,
        plan=plan_,
        expected_edit_version=plan_.edit_version,
        what="Keep the hostel bed open",
        agency=w.hostel,
    )
    with pytest.raises(NotAllowed):
        services.item_care_plan_agree(actor=w.member, item=w.item)
    plan_.refresh_from_db()
    assert plan_.state == CarePlan.State.DRAFT


def test_a_plan_is_not_agreed_after_the_minutes_are_approved(w, meeting):
    plan_ = case_services.care_plan_draft(actor=w.hostel_worker, case=w.case)
    case_services.care_plan_item_add(
        actor=w.hostel_worker,
        plan=plan_,
        expected_edit_version=plan_.edit_version,
        what="Keep the hostel bed open",
        agency=w.hostel,
    )
    held_with_minutes(w, meeting)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition):
        services.item_care_plan_agree(actor=w.chair, item=w.item)
    plan_.refresh_from_db()
    assert plan_.state == CarePlan.State.DRAFT
