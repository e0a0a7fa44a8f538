"""The forum's decisions, recorded on an item of a meeting that was held (DESIGN §4 rule 2:
no hand-offs), and what they change on the case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

import access
from cases.models import Case, Risk
from csf_portal.errors import DomainError, InvalidTransition
from csf_portal.models import Agency, User
from forums.models import (
    AgendaItem,
    Forum,
    ForumDecision,
    Meeting,
)
from forums.services._common import (
    S,
    _check_minutes_open,
    _choice,
    _require_runner,
    _save,
    _state_now,
    _text,
)

if TYPE_CHECKING:
    from cases.models import CarePlan


@transaction.atomic
def item_decision_record(
    *,
    actor: User,
    item: AgendaItem,
    kind: str,
    summary: str,
    agency: Agency | None = None,
    risk: Risk | None = None,
    level: str = "",
) -> ForumDecision:
    """Record a decision on a case item, and carry it out.

    An agency leaving a case, or giving up its ownership of a risk, is the one
    way either can happen (no hand-offs); the decision is recorded first and
    the case service checks it (``access.forum_decision_allows``).
    """
    from cases import services as case_services
    from cases.models import RiskOwner

    _check_minutes_open(item.meeting)
    kind = _choice(ForumDecision.Kind, kind, field="kind", message="Select the kind of decision")
    if item.case_id is None and kind != ForumDecision.Kind.OTHER:
        raise DomainError("This decision is about a case", field="kind")
    if kind == ForumDecision.Kind.CARE_PLAN_AGREED:
        raise DomainError("Agree the care plan with its own button on this item", field="kind")
    owner = None
    leaving = (ForumDecision.Kind.AGENCY_LEAVES_CASE, ForumDecision.Kind.RISK_OWNER_LEAVES)
    if kind in leaving and agency is None:
        raise DomainError("Choose the agency", field="agency")
    if kind == ForumDecision.Kind.RISK_OWNER_LEAVES:
        if risk is None or risk.case_id != item.case_id:
            raise DomainError("Choose the risk", field="risk")
        owner = RiskOwner.objects.filter(risk=risk, agency=agency, ended_at__isnull=True).first()
        if owner is None:
            raise DomainError(f"{agency} does not own this risk", field="agency")
    if kind == ForumDecision.Kind.RISK_CLOSED and (
        risk is None or risk.case_id != item.case_id or risk.status != Risk.Status.OPEN
    ):
        raise DomainError("Choose the open risk the forum closes", field="risk")
    if kind == ForumDecision.Kind.RISK_CLOSED:
        agency = None  # the whole risk closes, for every owner
    if kind == ForumDecision.Kind.AGENCY_LEAVES_CASE and agency is not None:
        return agency_leaves_case_decide(actor=actor, item=item, agency=agency, summary=summary)
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=kind,
        summary=summary,
        case=item.case,
        agency=agency,
        risk=risk,
    )
    if owner is not None:
        case_services.risk_owner_remove(actor=actor, owner=owner, decision=decision)
    if kind == ForumDecision.Kind.RISK_CLOSED and risk is not None:
        case_services.risk_close(actor=actor, risk=risk, decision=decision, level=level)
    return decision


@transaction.atomic
def agency_leaves_case_decide(
    *, actor: User, item: AgendaItem, agency: Agency, summary: str
) -> ForumDecision:
    """The forum decides an agency stops being involved: the decision and its effect, together.

    ``item`` is the case's item on the agenda of the meeting that decided it.
    """
    from cases import services as case_services

    if item.case is None:
        raise DomainError("This decision is about a case", field="item")
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=ForumDecision.Kind.AGENCY_LEAVES_CASE,
        summary=summary,
        case=item.case,
        agency=agency,
    )
    case_services.case_agency_leave(actor=actor, case=item.case, agency=agency, decision=decision)
    return decision


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
    item: AgendaItem | None = None,
) -> ForumDecision:
    """Record a decision against a meeting: who decided (the chair), when, why.

    A decision about a case belongs to that case's item on this meeting's agenda, at
    a meeting that was held (``access.decision_items_for``): it shows on the item's
    minutes, and the chair alone cannot decide outside a discussion.
    """
    _require_runner(actor, meeting.forum)
    summary = _text(summary, field="summary", message="Say what was decided and why")
    kind = _choice(ForumDecision.Kind, kind, field="kind", message="Select the kind of decision")
    if kind in access.CASE_DECISION_KINDS and case is None:
        raise DomainError("This decision is about a case", field="kind")
    if not meeting.has_started:
        raise DomainError("A decision is recorded against a meeting that has taken place")
    if _state_now(meeting) == S.MINUTES_APPROVED:
        raise InvalidTransition(
            "The minutes of that meeting have been approved: record the decision at the next"
        )
    if case is not None and meeting.forum.kind != Forum.Kind.CSF:
        raise DomainError("Decisions about a case are made by the Creative Solutions Forum")
    if case is not None and (
        item is None or item.case_id != case.pk or item.meeting_id != meeting.pk
    ):
        raise DomainError(
            "A decision about this case is recorded on its item of the agenda of a forum "
            "meeting that was held: add the case to a meeting's agenda first",
            field="item",
        )
    if (
        case is not None
        and item is not None
        and not access.decision_items_for(case=case).filter(pk=item.pk).exists()
    ):
        raise DomainError(
            "Publish the agenda, or record that the meeting was held, before recording the "
            "forum's decisions about a case",
            field="item",
        )
    if case is None and item is not None and item.meeting_id != meeting.pk:
        raise DomainError("Choose an item of this meeting", field="item")
    decision = ForumDecision(
        meeting=meeting,
        item=item,
        kind=kind,
        summary=summary,
        case=case,
        agency=agency,
        risk=risk,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    _save(decision, actor)
    return decision


@transaction.atomic
def item_care_plan_agree(*, actor: User, item: AgendaItem) -> CarePlan:
    """The forum agrees the case's draft care plan in this item's discussion.

    The agreement is a decision on the item (it shows on the minutes); the case
    service checks it before the plan changes.
    """
    from cases import services as case_services
    from cases.models import CarePlan

    _require_runner(actor, item.meeting.forum)
    _check_minutes_open(item.meeting)
    if item.case is None:
        raise DomainError("Care plans are agreed in a case discussion")
    plan = CarePlan.objects.filter(case=item.case, state=CarePlan.State.DRAFT).first()
    if plan is None:
        raise DomainError("This case has no draft care plan to agree: draft one on the case page")
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=ForumDecision.Kind.CARE_PLAN_AGREED,
        summary=f"The forum agreed version {plan.version} of the care plan.",
        case=item.case,
    )
    return case_services.care_plan_agree(actor=actor, plan=plan, decision=decision)


def meetings_discussing(*, case: Case) -> list[AgendaItem]:
    return list(
        AgendaItem.objects.filter(case=case)
        .select_related("meeting__forum")
        .order_by("-meeting__starts_at")
    )
