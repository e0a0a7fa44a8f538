"""Reads for the pages that gather several apps: the case page and the role-change log."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

import access
from assessments.models import Assessment
from cases.models import (
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    HandOffAttempt,
    NamedWorkerChange,
    OutcomeReview,
    Risk,
    RiskLevelChange,
    RiskOwner,
)
from cases.selectors import with_worker_dates
from csf_portal.models import RoleChange, User
from forums.models import ForumDecision
from forums.selectors import case_forum_history


def _day_end(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0)))


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


def case_page(*, user: User, case: Case) -> dict[str, Any]:
    """Everything the case page shows, in a fixed number of queries."""

    involvements = list(
        CaseAgency.objects.filter(case=case).select_related("agency", "named_worker")
    )
    worker_changes = list(
        NamedWorkerChange.objects.filter(involvement__case=case).select_related(
            "involvement__agency", "worker_before", "worker_after"
        )
    )
    with_worker_dates(involvements, worker_changes)
    changeable = access.named_worker_agency_ids(user, case)
    for i in involvements:
        i.may_change = i.agency_id in changeable  # type: ignore[attr-defined]
    risks = list(
        Risk.objects.filter(case=case)
        .prefetch_related(
            Prefetch(
                "owners",
                queryset=RiskOwner.objects.filter(ended_at__isnull=True).select_related(
                    "agency", "accepted_by"
                ),
                to_attr="current_owners",
            )
        )
        .order_by("status", "created_at")
    )
    referrals = list(
        access.referrals_visible_to(user=user)
        .filter(case=case)
        .select_related("referring_agency")
        .order_by("submitted_at")
    )
    decisions = list(
        ForumDecision.objects.filter(case=case).select_related("meeting__forum", "agency")
    )
    level_changes = list(
        RiskLevelChange.objects.filter(risk__case=case).select_related("risk", "changed_by")
    )
    assessments = list(
        Assessment.objects.filter(
            person=case.person, state=Assessment.State.COMPLETED
        ).select_related("agency")
    )
    plans = list(
        CarePlan.objects.filter(case=case).prefetch_related(
            Prefetch(
                "items", queryset=CarePlanItem.objects.select_related("agency", "named_worker")
            )
        )
    )
    timeline: list[dict[str, Any]] = [
        {"at": p.agreed_at, "text": f"Care plan version {p.version} agreed"}
        for p in plans
        if p.agreed_at
    ]
    for risk in risks:
        risk.owner_agency_ids = {o.agency_id for o in risk.current_owners}  # type: ignore[attr-defined]
    for r in referrals:
        if r.submitted_at:
            timeline.append({"at": r.submitted_at, "text": f"Referred by {r.referring_agency}"})
        if r.decided_at:
            timeline.append(
                {"at": r.decided_at, "text": f"Referral {r.get_state_display().lower()}"}
            )
    for i in involvements:
        timeline.append({"at": i.joined_at, "text": f"{i.agency} involved"})
        if i.left_at:
            timeline.append({"at": i.left_at, "text": f"{i.agency} left, by forum decision"})
    timeline.extend(
        {
            # Recorded on the day: when it was recorded; backdated: that morning.
            "at": c.recorded_at
            if c.changed_on == timezone.localdate(c.recorded_at)
            else _day_start(c.changed_on),
            "text": f"{c.involvement.agency}'s named worker: "
            + (c.worker_after.get_full_name() if c.worker_after else "no one named")
            + (f", after {c.worker_before.get_full_name()}" if c.worker_before else ""),
        }
        for c in worker_changes
    )
    timeline.extend(
        {
            "at": c.changed_at,
            "text": f"{c.risk.get_category_display()} risk"
            + (f" {c.get_event_display().lower()} at" if c.event else ":")
            + f" {c.get_level_display()}",
        }
        for c in level_changes
    )
    timeline.extend(
        {"at": a.completed_at, "text": f"Assessment by {a.agency}: score {a.total_score}"}
        for a in assessments
        if a.completed_at
    )
    timeline.extend(
        {"at": d.decided_at, "text": f"Forum decision: {d.get_kind_display()}"} for d in decisions
    )
    reviews = list(OutcomeReview.objects.filter(case=case).select_related("recorded_by"))
    timeline.extend(
        {
            "at": rv.created_at,
            "text": f"Outcome review: {rv.emergency_contacts} emergency contacts, "
            f"{rv.bnb_nights} B&B nights",
        }
        for rv in reviews
    )
    forum = case_forum_history(user=user, case=case)
    timeline.extend(
        {"at": item.meeting.starts_at, "text": f"Discussed at the {item.meeting.forum}"}
        for item in forum["discussions"]
        if item.meeting.has_started
    )
    timeline.extend(
        {
            "at": _day_end(action.completed_on),
            "text": f"Forum action done by {action.owner_agency}",
        }
        for action in forum["actions"]
        if action.completed_on
    )
    timeline.sort(key=lambda e: e["at"], reverse=True)
    return {
        "reviews": reviews,
        "care_plan": next((p for p in plans if p.state == CarePlan.State.AGREED), None),
        "care_plan_draft": next((p for p in plans if p.state == CarePlan.State.DRAFT), None),
        "care_plans": plans,
        "involvements": [i for i in involvements if i.left_at is None],
        "risks": risks,
        "open_risks": [r for r in risks if r.status == Risk.Status.OPEN],
        "closed_risks": [r for r in risks if r.status == Risk.Status.CLOSED],
        "handoff_attempts": HandOffAttempt.objects.filter(case=case).count(),
        "referrals": referrals,
        "timeline": timeline,
        "discussions": forum["discussions"],
        "open_actions": forum["open_actions"],
        "my_agency_involved": any(
            i.agency_id == user.agency_id and i.left_at is None for i in involvements
        ),
    }


# --- role and agency changes (the chairs' separation-of-duties log) -----------


def role_changes_visible_to(*, user: User, staff_id: int | None = None) -> QuerySet[RoleChange]:
    """Changes to who may see what, newest first; nothing for anyone but a forum chair.

    ``staff_id``: only the changes to that account's access.
    """
    if not access.can_view_role_changes(user):
        return RoleChange.objects.none()
    changes = RoleChange.objects.select_related(
        "user__agency", "actor", "agency_before", "agency_after"
    ).order_by("-at", "-id")
    if staff_id is not None:
        changes = changes.filter(user_id=staff_id)
    return changes


def role_change_staff(*, user: User, staff_id: int | None) -> User | None:
    """The member of staff a chair filtered the log by, if there is one."""
    if staff_id is None or not access.can_view_role_changes(user):
        return None
    return User.objects.select_related("agency").filter(pk=staff_id).first()
