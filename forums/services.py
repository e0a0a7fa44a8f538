"""Forum use cases recorded so far: meetings and the decisions made at them."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from cases.models import Case, Risk
from csf_portal import access
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Agency, User
from forums.models import Forum, ForumDecision, Meeting


@transaction.atomic
def meeting_plan(
    *, actor: User, forum: Forum, starts_at: datetime.datetime, location: str = ""
) -> Meeting:
    if not access.can_triage_referrals(actor):
        raise NotAllowed("Only a forum chair plans meetings.")
    meeting = Meeting(forum=forum, starts_at=starts_at, location=location)
    meeting._history_user = actor  # type: ignore[attr-defined]
    meeting.save()
    return meeting


@transaction.atomic
def forum_decision_record(
    *,
    actor: User,
    meeting: Meeting,
    kind: str,
    summary: str,
    case: Case | None = None,
    agency: Agency | None = None,
    risk: Risk | None = None,
) -> ForumDecision:
    """Record a decision against a meeting: who decided (the chair), when, why."""
    if not access.can_triage_referrals(actor):
        raise NotAllowed("Only the forum chair records decisions.")
    if not summary.strip():
        raise DomainError("Say what was decided and why", field="summary")
    if meeting.starts_at > timezone.now():
        raise DomainError("A decision is recorded against a meeting that has taken place")
    if case is not None and meeting.forum.kind != Forum.Kind.CSF:
        raise DomainError("Decisions about a case are made by the Creative Solutions Forum")
    decision = ForumDecision(
        meeting=meeting,
        kind=ForumDecision.Kind(kind),
        summary=summary.strip(),
        case=case,
        agency=agency,
        risk=risk,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    decision._history_user = actor  # type: ignore[attr-defined]
    decision.save()
    return decision


@transaction.atomic
def meeting_held_on(*, actor: User, day: datetime.date) -> Meeting:
    """The Creative Solutions Forum meeting held on ``day``, recorded if not yet known."""
    if not access.can_triage_referrals(actor):
        raise NotAllowed("Only a forum chair records meetings.")
    if day > timezone.localdate():
        raise DomainError("The meeting date must be today or in the past", field="meeting_date")
    forum = Forum.objects.get(kind=Forum.Kind.CSF)
    meeting = Meeting.objects.filter(forum=forum, starts_at__date=day).first()
    if meeting is None:
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
        meeting = Meeting(forum=forum, starts_at=starts, state=Meeting.State.HELD)
        meeting._history_user = actor  # type: ignore[attr-defined]
        meeting.save()
    return meeting
