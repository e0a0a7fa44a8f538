"""Case use cases: involvement, shared risk ownership, risk levels. No hand-offs (DESIGN §4.2).

An agency leaves a case, and a risk loses its last owner, only through a decision
recorded against a forum meeting. A refused attempt is recorded (it is evidence
for the forum and commissioners) and the caller is told why.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

import access
from cases.models import (
    Case,
    CaseAgency,
    HandOffAttempt,
    NamedWorkerChange,
    Risk,
    RiskCategory,
    RiskClosureAgreement,
    RiskLevel,
    RiskLevelChange,
    RiskOwner,
)
from csf_portal.errors import ConcurrentEdit, DomainError, HandOffRefused, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Agency, User

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import BreakGlassAccess, CarePlan, CarePlanItem
    from forums.models import ForumDecision

HIGH_LEVELS = {RiskLevel.HIGH, RiskLevel.VERY_HIGH}


def _check_involved(actor: User, case: Case) -> None:
    """Contributing needs involvement: emergency or meeting-time access is for reading."""
    if not access.can_contribute_to_case(actor, case):
        raise NotAllowed("Your agency is not involved in this case.")


def _attempt(
    *, case: Case, agency: Agency, actor: User, kind: str, risk: Risk | None = None
) -> None:
    """Record a refused hand-off after the service's own transaction has ended.

    Callers must not wrap these services in a transaction of their own if the
    attempt is to be kept when they let ``HandOffRefused`` propagate.
    """
    HandOffAttempt.objects.create(
        case=case,
        risk=risk,
        agency=agency,
        kind=kind,
        attempted_by=actor,
        attempted_at=timezone.now(),
    )


@transaction.atomic
def case_agency_join(
    *, actor: User, case: Case, agency: Agency, role: str = "", named_worker: User | None = None
) -> CaseAgency:
    """Involve an agency in a case (it then sees the case where consent covers it)."""
    if not (access.can_view_case(actor, case) or access.can_record_forum_decisions(actor)):
        raise NotAllowed("You cannot change who is involved in this case.")
    if named_worker is not None and named_worker.agency_id != agency.pk:
        raise DomainError("The named worker must work for that agency", field="named_worker")
    current = (
        CaseAgency.objects.select_for_update()
        .filter(case=case, agency=agency, left_at__isnull=True)
        .first()
    )
    if current is not None:
        if role and role != current.role:
            current.role = role
            current.version += 1
            with acting_as(actor):
                current.save()
        if named_worker is not None and named_worker.pk != current.named_worker_id:
            _worker_change(
                current,
                actor=actor,
                worker=named_worker,
                on=timezone.localdate(),
                reason=f"Named on {agency}'s new involvement in the case",
            )
        return current
    involvement = CaseAgency(case=case, agency=agency, role=role, joined_at=timezone.now())
    with acting_as(actor):
        involvement.save()
    access.case_access_grant(agency=agency, case=case)
    if named_worker is not None:
        _worker_change(
            involvement,
            actor=actor,
            worker=named_worker,
            on=timezone.localdate(),
            reason=f"Named when {agency} joined the case",
        )
    return involvement


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _worker_change(
    involvement: CaseAgency,
    *,
    actor: User,
    worker: User | None,
    on: datetime.date,
    reason: str,
) -> NamedWorkerChange:
    """Make ``worker`` the involvement's named worker from ``on``: recorded, and both told."""
    from csf_portal.notifications import notification_send

    before = involvement.named_worker
    involvement.named_worker = worker
    involvement.version += 1
    involvement._change_reason = reason  # type: ignore[attr-defined]
    with acting_as(actor):
        involvement.save()
    change = NamedWorkerChange.objects.create(
        involvement=involvement,
        worker_before=before,
        worker_after=worker,
        changed_on=on,
        reason=reason,
        changed_by=actor,
        recorded_at=timezone.now(),
    )
    url = f"/cases/{involvement.case_id}/"
    if worker is not None and worker.pk != actor.pk:
        notification_send(
            user=worker,
            text=f"You are now {involvement.agency}'s named worker on a case, from {_day(on)}.",
            url=url,
            email_subject="You are the named worker on a case",
        )
    if before is not None and before.pk != actor.pk and before.is_active:
        notification_send(
            user=before,
            text=f"You are no longer {involvement.agency}'s named worker on a case, from "
            f"{_day(on)}.",
            url=url,
        )
    return change


@transaction.atomic
def involvement_update(
    *,
    actor: User,
    involvement: CaseAgency,
    expected_version: int,
    named_worker: User | None,
    changed_on: datetime.date | None = None,
    reason: str = "",
    work_phone: str = "",
    team_inbox: str = "",
    out_of_hours: str = "",
) -> CaseAgency:
    """Change an agency's named worker on a case (from a date, with a reason) and its crisis
    contacts for the case, against the version the user read."""
    current = (
        CaseAgency.objects.select_for_update(of=("self",))  # PostgreSQL: not the outer join
        .select_related("case", "agency", "named_worker")
        .get(pk=involvement.pk)
    )
    if not access.can_change_named_worker(actor, current):
        raise NotAllowed("Only the agency itself, or the forum's chair, can change its worker.")
    if current.version != expected_version:
        raise ConcurrentEdit(
            "Someone else changed this agency's worker or contacts while you were editing. "
            "Your changes have not been saved: check them as they are now, then make your "
            "changes again."
        )
    contacts = {
        "work_phone": (work_phone or "").strip(),
        "team_inbox": (team_inbox or "").strip(),
        "out_of_hours": (out_of_hours or "").strip(),
    }
    worker_id = named_worker.pk if named_worker is not None else None
    new_worker = worker_id != current.named_worker_id
    if new_worker:
        _check_worker_change(current, worker=named_worker, on=changed_on)
        reason = _reason(reason, "Say why the named worker is changing")
    changed = {k: v for k, v in contacts.items() if getattr(current, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(current, key, value)
        current.version += 1
        with acting_as(actor):
            current.save()
    if new_worker:
        assert changed_on is not None  # checked above
        _worker_change(current, actor=actor, worker=named_worker, on=changed_on, reason=reason)
    if changed or new_worker:
        access.case_activity_touch(case=current.case)
    return current


def _check_worker_change(
    involvement: CaseAgency, *, worker: User | None, on: datetime.date | None
) -> None:
    if on is None:
        raise DomainError("Enter the date the new worker takes over", field="changed_on")
    if on > timezone.localdate():
        raise DomainError(
            "The date the new worker takes over must be today or in the past: change the "
            "worker on the day",
            field="changed_on",
        )
    if on < timezone.localdate(involvement.joined_at):
        raise DomainError(
            f"The date must be on or after {involvement.agency} joined the case "
            f"({_day(timezone.localdate(involvement.joined_at))})",
            field="changed_on",
        )
    latest = involvement.worker_changes.order_by("-changed_on").first()
    if latest is not None and on < latest.changed_on:
        raise DomainError(
            f"The date must be on or after the last change of worker ({_day(latest.changed_on)})",
            field="changed_on",
        )
    if worker is not None and not access.can_be_named_worker(worker, involvement):
        raise DomainError(
            f"The named worker must be someone of {involvement.agency} who works with people "
            "and can see this case",
            field="named_worker",
        )


def case_agency_leave(
    *, actor: User, case: Case, agency: Agency, decision: ForumDecision | None = None
) -> CaseAgency:
    """Stop an agency's involvement: only with a forum decision for exactly this.

    Asked by the chair, or by someone of the leaving agency who can see the case.
    """
    if not (
        access.can_record_forum_decisions(actor)
        or (actor.agency_id == agency.pk and access.can_view_case(actor, case))
    ):
        raise NotAllowed("You cannot change this agency's involvement.")
    with transaction.atomic():
        involvement = (
            CaseAgency.objects.select_for_update()
            .filter(case=case, agency=agency, left_at__isnull=True)
            .first()
        )
        if involvement is None:
            raise DomainError(f"{agency} is not involved in this case")
        allowed = access.forum_decision_allows(
            decision, case=case, kind="agency_leaves_case", agency=agency
        )
        owns = RiskOwner.objects.filter(
            risk__case=case, agency=agency, ended_at__isnull=True, risk__status=Risk.Status.OPEN
        ).exists()
        if allowed and not owns:
            involvement.left_at = timezone.now()
            involvement.left_by_decision = decision
            with acting_as(actor):
                involvement.save()
                # Its closed risks' shares end with it: a reopened risk is owned by
                # agencies still involved.
                for share in RiskOwner.objects.filter(
                    risk__case=case, agency=agency, ended_at__isnull=True
                ):
                    share.ended_at = involvement.left_at
                    share.ended_by_decision = decision
                    share.save()
            access.case_access_revoke(agency=agency, case=case)
            return involvement
    _attempt(case=case, agency=agency, actor=actor, kind=HandOffAttempt.Kind.LEAVE_CASE)
    if allowed and owns:
        raise HandOffRefused(
            f"{agency} still owns open risks on this case. The forum must first agree who "
            "takes them on."
        )
    raise HandOffRefused(
        "No agency can hand this person off. Leaving a case needs a decision of the "
        "Creative Solutions Forum, recorded against a meeting. The attempt has been recorded."
    )


@transaction.atomic
def risk_add(
    *,
    actor: User,
    case: Case,
    category: str,
    level: str,
    description: str = "",
    mitigations: str = "",
    at_referral: bool = False,
) -> Risk:
    _check_involved(actor, case)
    risk = Risk(
        case=case,
        category=RiskCategory(category),
        level=RiskLevel(level),
        level_at_referral=level if at_referral else "",
        description=description,
        mitigations=mitigations,
    )
    with acting_as(actor):
        risk.save()
    RiskLevelChange.objects.create(
        risk=risk, level=level, changed_at=timezone.now(), changed_by=actor
    )
    access.case_activity_touch(case=case)
    return risk


@transaction.atomic
def risk_update(
    *,
    actor: User,
    risk: Risk,
    expected_version: int,
    level: str,
    description: str,
    mitigations: str,
) -> Risk:
    """Change a risk. If someone else changed it since ``expected_version``, refuse."""
    _check_involved(actor, risk.case)
    RiskLevel(level)
    current = Risk.objects.select_for_update().get(pk=risk.pk)
    _check_version(current, expected_version)
    if current.status == Risk.Status.CLOSED:
        raise DomainError("This risk is closed: reopen it to change it")
    level_changed = current.level != level
    current.level = level
    current.description = description
    current.mitigations = mitigations
    current.version += 1
    with acting_as(actor):
        current.save()
    if level_changed:
        RiskLevelChange.objects.create(
            risk=current, level=level, changed_at=timezone.now(), changed_by=actor
        )
    access.case_activity_touch(case=current.case)
    return current


def _check_version(current: Risk, expected_version: int) -> None:
    if current.version != expected_version:
        raise ConcurrentEdit(
            "Someone else changed this risk while you were editing it. Your changes have not "
            "been saved: check the risk as it is now, then make your changes again."
        )


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field="reason")
    return reason


def _risk_close(
    current: Risk, *, actor: User, level: str, reason: str, decision: ForumDecision | None
) -> Risk:
    current.status = Risk.Status.CLOSED
    current.level = level
    current.level_at_closure = level
    current.closure_reason = reason
    current.closed_at = timezone.now()
    current.closed_by_decision = decision
    current.version += 1
    with acting_as(actor):
        current.save()
    RiskLevelChange.objects.create(
        risk=current,
        level=level,
        event=RiskLevelChange.Event.CLOSED,
        reason=reason,
        changed_at=current.closed_at,
        changed_by=actor,
    )
    access.case_activity_touch(case=current.case)
    return current


@transaction.atomic
def risk_close(*, actor: User, risk: Risk, decision: ForumDecision, level: str = "") -> Risk:
    """The forum closes a risk: a decision of exactly this kind on this case's item.

    ``level`` is the risk's level at closure (its level now, if not given); the
    decision's summary is the reason.
    """
    current = Risk.objects.select_for_update().select_related("case").get(pk=risk.pk)
    if current.status != Risk.Status.OPEN:
        raise DomainError("This risk is already closed", field="risk")
    if not access.forum_decision_allows(
        decision, case=current.case, kind="risk_closed", risk=current
    ):
        raise NotAllowed(
            "A risk is closed by a forum decision on this case's agenda item, or when every "
            "agency that owns it agrees."
        )
    level = RiskLevel(level or current.level)
    return _risk_close(
        current, actor=actor, level=level, reason=decision.summary, decision=decision
    )


@transaction.atomic
def risk_closure_agree(
    *, actor: User, risk: Risk, expected_version: int, level: str, reason: str
) -> Risk:
    """The actor's agency, an owner of the risk, agrees it can close at ``level``.

    The first agreement proposes the level and the reason; the risk closes when every
    agency that owns it now has agreed to the risk as it is. The other owners are told.
    """
    from csf_portal.notifications import notification_send

    current = Risk.objects.select_for_update().select_related("case").get(pk=risk.pk)
    if not access.can_agree_risk_closure(actor, current):
        raise NotAllowed("Only an agency that owns this open risk can agree to close it.")
    _check_version(current, expected_version)
    level = RiskLevel(level)
    pending = list(
        RiskClosureAgreement.objects.filter(
            risk=current, risk_version=current.version
        ).select_related("agency")
    )
    if any(a.agency_id == actor.agency_id for a in pending):
        raise DomainError("Your agency has already agreed to close this risk")
    if pending and pending[0].level != level:
        raise DomainError(
            f"{pending[0].agency} agreed to close it at {pending[0].get_level_display().lower()} "
            "risk. Agree at that level, or change the risk's level first (which asks every "
            "owner again).",
            field="level",
        )
    reason = _reason(reason, "Say why the risk can close")
    with acting_as(actor):
        agreement = RiskClosureAgreement(
            risk=current,
            agency=actor.agency,
            agreed_by=actor,
            agreed_at=timezone.now(),
            risk_version=current.version,
            level=level,
            reason=reason,
        )
        agreement.save()
    pending.append(agreement)
    owners = list(
        RiskOwner.objects.filter(risk=current, ended_at__isnull=True).select_related("accepted_by")
    )
    agreed = {a.agency_id for a in pending}
    if {o.agency_id for o in owners} <= agreed:
        return _risk_close(
            current, actor=actor, level=level, reason=pending[0].reason, decision=None
        )
    for owner in owners:
        if owner.agency_id not in agreed and owner.accepted_by.is_active:
            notification_send(
                user=owner.accepted_by,
                text=f"{actor.agency} agreed to close a {current.get_category_display().lower()} "
                "risk your agency shares. It closes when every owning agency agrees.",
                url=f"/cases/{current.case_id}/risks/{current.pk}/close/",
            )
    return current


@transaction.atomic
def risk_reopen(*, actor: User, risk: Risk, expected_version: int, level: str, reason: str) -> Risk:
    """Reopen a closed risk at ``level``. If no agency still involved owns it, the actor's
    agency does (a reopened risk is never without an owner)."""
    current = Risk.objects.select_for_update().select_related("case").get(pk=risk.pk)
    if not access.can_reopen_risk(actor, current):
        raise NotAllowed("Only an agency involved in this case can reopen its risks.")
    _check_version(current, expected_version)
    level = RiskLevel(level)
    reason = _reason(reason, "Say why the risk is reopened")
    current.status = Risk.Status.OPEN
    current.level = level
    current.level_at_closure = ""
    current.closure_reason = ""
    current.closed_at = None
    current.closed_by_decision = None
    current.version += 1
    current._change_reason = reason  # type: ignore[attr-defined]
    now = timezone.now()
    involved = CaseAgency.objects.filter(case=current.case, left_at__isnull=True).values(
        "agency_id"
    )
    with acting_as(actor):
        current.save()
        if not RiskOwner.objects.filter(
            risk=current, ended_at__isnull=True, agency_id__in=involved
        ).exists():
            RiskOwner(risk=current, agency=actor.agency, accepted_by=actor, accepted_at=now).save()
    RiskLevelChange.objects.create(
        risk=current,
        level=level,
        event=RiskLevelChange.Event.REOPENED,
        reason=reason,
        changed_at=now,
        changed_by=actor,
    )
    access.case_activity_touch(case=current.case)
    return current


@transaction.atomic
def risk_owner_add(*, actor: User, risk: Risk, agency: Agency, accepted_by: User) -> RiskOwner:
    """An agency accepts a share of the risk, through a named person of that agency."""
    _check_involved(actor, risk.case)
    if accepted_by.agency_id != agency.pk:
        raise DomainError("The person accepting must work for that agency", field="accepted_by")
    if not access.can_view_case(accepted_by, risk.case):
        raise DomainError(
            "The person accepting must be able to see this case (consent must cover their agency)",
            field="accepted_by",
        )
    if not CaseAgency.objects.filter(case=risk.case, agency=agency, left_at__isnull=True).exists():
        raise DomainError(f"{agency} must be involved in the case to own one of its risks")
    current = RiskOwner.objects.filter(risk=risk, agency=agency, ended_at__isnull=True).first()
    if current is not None:
        return current
    owner = RiskOwner(risk=risk, agency=agency, accepted_by=accepted_by, accepted_at=timezone.now())
    with acting_as(actor):
        owner.save()
    return owner


def risk_owner_remove(
    *, actor: User, owner: RiskOwner, decision: ForumDecision | None = None
) -> RiskOwner:
    """Another owner may step back; the last owner only by a forum decision."""
    with transaction.atomic():
        owner = (
            RiskOwner.objects.select_for_update()
            .select_related("risk__case", "agency")
            .get(pk=owner.pk)
        )
        risk = owner.risk
        _check_involved(actor, risk.case)
        others = (
            RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).exclude(pk=owner.pk).exists()
        )
        allowed = others or access.forum_decision_allows(
            decision, case=risk.case, kind="risk_owner_leaves", agency=owner.agency, risk=risk
        )
        if allowed:
            owner.ended_at = timezone.now()
            owner.ended_by_decision = decision
            with acting_as(actor):
                owner.save()
            return owner
    _attempt(
        case=risk.case,
        agency=owner.agency,
        actor=actor,
        kind=HandOffAttempt.Kind.LEAVE_RISK,
        risk=risk,
    )
    raise HandOffRefused(
        f"{owner.agency} is the last owner of this risk. It cannot be left without an owner "
        "except by a decision of the forum. The attempt has been recorded."
    )


def risks_blocking_care_plan(*, case: Case) -> list[Risk]:
    """High or very high open risks with fewer than two owning agencies."""
    from django.db.models import Count, Q

    return list(
        Risk.objects.filter(case=case, status=Risk.Status.OPEN, level__in=HIGH_LEVELS)
        .annotate(n=Count("owners", filter=Q(owners__ended_at__isnull=True)))
        .filter(n__lt=2)
    )


BREAK_GLASS_LASTS = datetime.timedelta(hours=4)
# Emergency look-ups each user may make: a few in a short window, and a daily cap.
EMERGENCY_LOOKUPS_PER_WINDOW = 5
EMERGENCY_LOOKUP_WINDOW = datetime.timedelta(minutes=15)
EMERGENCY_LOOKUPS_PER_DAY = 20
# One answer for "no record matches" and "a record matches but cannot be opened":
# the page must not tell a known person from an unknown one.
NO_EMERGENCY_MATCH = (
    "No record can be opened in an emergency with these details. Check them, or enter "
    "the person's NHS number. If the risk is immediate, follow your agency's emergency procedure."
)


class EmergencyLookupLimited(NotAllowed):
    """Too many emergency look-ups by one user: refused, and logged."""


def _check_emergency_reason(reason: str) -> None:
    if len(reason.strip()) < 20:
        raise DomainError(
            "Explain the emergency: what is happening and why you need this record now",
            field="reason",
        )


def _emergency_lookups_exhausted(actor: User) -> str:
    """The refusal message if the user has used up their look-ups, else "".

    Counted from the access log (no cache to fail or to be flushed): rate-limited
    attempts are logged but do not count, so waiting always frees a look-up.
    """
    from csf_portal.models import AccessEvent

    now = timezone.now()
    counted = AccessEvent.objects.filter(
        user=actor,
        action=AccessEvent.Action.EMERGENCY_LOOKUP,
        at__gt=now - datetime.timedelta(hours=24),
    ).exclude(object_id="rate_limited")
    if counted.count() >= EMERGENCY_LOOKUPS_PER_DAY:
        return (
            f"You have made {EMERGENCY_LOOKUPS_PER_DAY} emergency look-ups in 24 hours, the most "
            "allowed. Ask the forum chair or your agency's safeguarding lead for help."
        )
    recent = counted.filter(at__gt=now - EMERGENCY_LOOKUP_WINDOW).count()
    if recent >= EMERGENCY_LOOKUPS_PER_WINDOW:
        minutes = int(EMERGENCY_LOOKUP_WINDOW.total_seconds() // 60)
        return (
            f"You have made {EMERGENCY_LOOKUPS_PER_WINDOW} emergency look-ups in {minutes} "
            "minutes, the most allowed. Wait a few minutes and try again, or ask the forum chair."
        )
    return ""


def break_glass_request(
    *,
    actor: User,
    nhs_number: str,
    family_name: str,
    date_of_birth: datetime.date | None,
    reason: str,
    request: HttpRequest | None = None,
) -> BreakGlassAccess:
    """Find a record by identifiers and open it in an emergency.

    Every look-up writes an access-log row (opened, no_match, ambiguous, refused or
    rate_limited) that is kept even when the look-up is refused; "no match" and
    "matched but refused" raise the same error with the same message.
    """
    from cases import selectors

    if not access.can_request_emergency_access(actor):
        raise NotAllowed(NO_EMERGENCY_MATCH)
    _check_emergency_reason(reason)
    searched = access.emergency_lookup_fingerprint(
        nhs_number=nhs_number, family_name=family_name, date_of_birth=date_of_birth
    )
    error: DomainError | None = None
    grant: BreakGlassAccess | None = None
    with transaction.atomic():
        # One user's look-ups one at a time, so two at once cannot both pass the limit.
        User.objects.select_for_update(of=("self",)).filter(pk=actor.pk).exists()
        limited = _emergency_lookups_exhausted(actor)
        if limited:
            access.record_emergency_lookup(
                user=actor, outcome="rate_limited", searched=searched, request=request
            )
            error = EmergencyLookupLimited(limited)
        else:
            matches = selectors.emergency_cases_matching(
                nhs_number=nhs_number, family_name=family_name, date_of_birth=date_of_birth
            )
            if len(matches) != 1:
                access.record_emergency_lookup(
                    user=actor,
                    outcome="no_match" if not matches else "ambiguous",
                    searched=searched,
                    request=request,
                )
                error = DomainError(NO_EMERGENCY_MATCH)
            else:
                case = matches[0]
                try:
                    with transaction.atomic():
                        grant = break_glass_open(
                            actor=actor, case=case, reason=reason, request=request
                        )
                except DomainError:
                    error = DomainError(NO_EMERGENCY_MATCH)
                access.record_emergency_lookup(
                    user=actor,
                    outcome="opened" if grant is not None else "refused",
                    searched=searched,
                    request=request,
                    person_id=case.person_id,
                )
    if grant is None:  # refused, and ``error`` says why
        raise error or DomainError(NO_EMERGENCY_MATCH)
    return grant


@transaction.atomic
def break_glass_open(
    *, actor: User, case: Case, reason: str, request: HttpRequest | None = None
) -> BreakGlassAccess:
    """Emergency access for one practitioner: time-boxed, logged, told to the chairs."""
    from django.urls import reverse

    from cases.models import BreakGlassAccess
    from csf_portal.models import AccessEvent, Role
    from csf_portal.notifications import notification_send

    if not access.can_request_emergency_access(actor):
        raise NotAllowed(NO_EMERGENCY_MATCH)
    _check_emergency_reason(reason)
    now = timezone.now()
    grant = BreakGlassAccess(
        case=case,
        user=actor,
        agency=actor.agency,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + BREAK_GLASS_LASTS,
    )
    with acting_as(actor):
        grant.save()
    access.record_access(
        user=actor, obj=case, request=request, action=AccessEvent.Action.BREAK_GLASS, reason=reason
    )
    for chair in User.objects.filter(groups__name=Role.FORUM_CHAIR, is_active=True).distinct():
        notification_send(
            user=chair,
            text=f"Emergency access to a case was opened by {actor} ({actor.agency}). Review it.",
            url=reverse("cases:emergency_review"),
            email_subject="CSF Portal: emergency access to review",
        )
    return grant


@transaction.atomic
def break_glass_review(*, actor: User, grant: BreakGlassAccess, note: str = "") -> BreakGlassAccess:
    """The chair's review of an emergency access: recorded once, never overwritten."""
    from cases.models import BreakGlassAccess

    if not access.can_review_emergency_access(actor):
        raise NotAllowed("Only a forum chair reviews emergency access.")
    grant = (
        BreakGlassAccess.objects.select_for_update(of=("self",))
        .select_related("reviewed_by")
        .get(pk=grant.pk)
    )
    if grant.reviewed_at is not None:
        raise DomainError(
            f"This emergency access was already reviewed by {grant.reviewed_by} on "
            f"{timezone.localtime(grant.reviewed_at):%d %B %Y at %H:%M}. "
            "The review is kept as it was."
        )
    grant.reviewed_by = actor
    grant.reviewed_at = timezone.now()
    grant.review_note = note.strip()
    with acting_as(actor):
        grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    return grant


# --- care plans ------------------------------------------------------------------


def _plan_editable(actor: User, plan: CarePlan, expected_edit_version: int) -> CarePlan:
    from cases.models import CarePlan

    _check_involved(actor, plan.case)
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.state != CarePlan.State.DRAFT:
        raise DomainError("Only the draft care plan can be changed")
    if plan.edit_version != expected_edit_version:
        raise ConcurrentEdit(
            "Someone else changed this care plan while you were editing it. Your change has not "
            "been saved: check the plan as it is now, then make your change again."
        )
    return plan


def _bump(plan: CarePlan, actor: User) -> None:
    plan.edit_version += 1
    with acting_as(actor):
        plan.save()


@transaction.atomic
def care_plan_draft(*, actor: User, case: Case) -> CarePlan:
    """The case's draft plan, starting a new version from the agreed one if needed."""
    from cases import selectors
    from cases.models import CarePlan, CarePlanItem

    _check_involved(actor, case)
    draft = selectors.care_plan_draft_or_next(case=case)
    if not draft._state.adding:  # a draft already
        return draft
    latest = CarePlan.objects.filter(case=case, state=CarePlan.State.AGREED).first()
    with acting_as(actor):
        draft.save()
    if latest is not None:
        for item in latest.items.all():
            copy = CarePlanItem(
                plan=draft,
                what=item.what,
                agency=item.agency,
                named_worker=item.named_worker,
                by_when=item.by_when,
                order=item.order,
            )
            with acting_as(actor):
                copy.save()
    return draft


@transaction.atomic
def care_plan_item_add(
    *,
    actor: User,
    plan: CarePlan,
    expected_edit_version: int,
    what: str,
    agency: Agency,
    named_worker: User | None = None,
    by_when: datetime.date | None = None,
) -> CarePlanItem:
    from cases.models import CarePlanItem

    plan = _plan_editable(actor, plan, expected_edit_version)
    if not what.strip():
        raise DomainError("Say what will happen", field="what")
    if named_worker is not None and named_worker.agency_id != agency.pk:
        raise DomainError("The named worker must work for that agency", field="named_worker")
    if not CaseAgency.objects.filter(case=plan.case, agency=agency, left_at__isnull=True).exists():
        raise DomainError(f"{agency} is not involved in this case", field="agency")
    item = CarePlanItem(
        plan=plan,
        what=what.strip(),
        agency=agency,
        named_worker=named_worker,
        by_when=by_when,
        order=plan.items.count() + 1,
    )
    with acting_as(actor):
        item.save()
    _bump(plan, actor)
    return item


@transaction.atomic
def care_plan_item_remove(
    *, actor: User, plan: CarePlan, expected_edit_version: int, item_id: int
) -> None:
    plan = _plan_editable(actor, plan, expected_edit_version)
    item = plan.items.filter(pk=item_id).first()
    if item is not None:
        with acting_as(actor):
            item.delete()
    _bump(plan, actor)


@transaction.atomic
def care_plan_agree(*, actor: User, plan: CarePlan, decision: ForumDecision) -> CarePlan:
    """Agree the draft by the forum's decision; the plan it replaces is superseded (and kept).

    ``decision``: the forum's CARE_PLAN_AGREED decision on the case's agenda item at a
    meeting that was held (``forums.services.item_care_plan_agree`` records it).
    """
    from cases.models import CarePlan

    if not access.can_record_forum_decisions(actor):
        raise NotAllowed("The forum chair records that a care plan was agreed.")
    if not access.forum_decision_allows(decision, case=plan.case, kind="care_plan_agreed"):
        raise DomainError(
            "A care plan is agreed in the case's discussion at a Creative Solutions Forum "
            "meeting that was held"
        )
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.state != CarePlan.State.DRAFT:
        raise DomainError("This version has already been agreed")
    if not plan.items.exists():
        raise DomainError("A care plan needs at least one thing that will happen")
    blocking = risks_blocking_care_plan(case=plan.case)
    if blocking:
        names = ", ".join(r.get_category_display().lower() for r in blocking)
        raise DomainError(
            f"High risks must be shared by at least two agencies before the plan is agreed: {names}"
        )
    for previous in CarePlan.objects.select_for_update().filter(
        case=plan.case, state=CarePlan.State.AGREED
    ):
        previous.state = CarePlan.State.SUPERSEDED
        with acting_as(actor):
            previous.save()
    plan.state = CarePlan.State.AGREED
    plan.agreed_at = timezone.now()
    plan.agreed_meeting = decision.meeting
    plan.agreed_by = actor
    with acting_as(actor):
        plan.save()
    access.case_activity_touch(case=plan.case)
    return plan


def care_plan_changes(*, before: CarePlan | None, after: CarePlan) -> dict[str, list[Any]]:
    """What changed between two versions: added, removed, and re-dated or re-assigned items."""
    old = {i.key(): i for i in before.items.all()} if before else {}
    new = {i.key(): i for i in after.items.all()}
    changed = [
        (old[k], new[k])
        for k in old.keys() & new.keys()
        if (old[k].by_when, old[k].named_worker_id) != (new[k].by_when, new[k].named_worker_id)
    ]
    return {
        "added": [new[k] for k in new.keys() - old.keys()],
        "removed": [old[k] for k in old.keys() - new.keys()],
        "changed": changed,
    }


# --- case state ---------------------------------------------------------------------


CASE_TRANSITIONS = {
    Case.State.AWAITING_FORUM: {Case.State.ACTIVE, Case.State.CLOSED},
    Case.State.ACTIVE: {Case.State.MONITORING, Case.State.CLOSED},
    Case.State.MONITORING: {Case.State.ACTIVE, Case.State.CLOSED},
}


@transaction.atomic
def case_set_state(*, actor: User, case: Case, state: str, closure_outcome: str = "") -> Case:
    """Move a case on (the chair): awaiting forum -> active -> monitoring -> closed."""
    from csf_portal.errors import InvalidTransition

    if not access.can_record_forum_decisions(actor):
        raise NotAllowed("Only the forum chair changes a case's status.")
    case = Case.objects.select_for_update().get(pk=case.pk)
    target = Case.State(state)
    if target not in CASE_TRANSITIONS.get(Case.State(case.state), set()):
        raise InvalidTransition(
            f"A case that is {case.get_state_display().lower()} cannot become "
            f"{target.label.lower()}."
        )
    if target == Case.State.CLOSED:
        if not closure_outcome:
            raise DomainError("Select the outcome the case closed with", field="closure_outcome")
        case.closure_outcome = Case.ClosureOutcome(closure_outcome)
        case.closed_at = timezone.now()
    case.state = target
    with acting_as(actor):
        case.save()
    return case
