"""Person and case reads, scoped through ``access``."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

import access
from cases.models import Case, Person
from csf_portal.models import User

if TYPE_CHECKING:
    from cases.models import (
        BreakGlassAccess,
        CarePlan,
        CarePlanItem,
        CaseAgency,
        NamedWorkerChange,
        Risk,
    )


def people_by_identifiers(
    *, nhs_number: str, family_name: str, date_of_birth: datetime.date | None
) -> QuerySet[Person]:
    """People matching exact identifiers, unscoped.

    Only for the two deliberate exceptions to need-to-know, each logged and
    reviewed: subject access (chairs, administrators) and emergency access.
    """
    from cases.validators import normalise_nhs_number

    nhs = normalise_nhs_number(nhs_number)
    if nhs:
        return Person.objects.filter(nhs_number=nhs)
    return Person.objects.filter(family_name__iexact=family_name, date_of_birth=date_of_birth)


def emergency_cases_matching(
    *, nhs_number: str, family_name: str, date_of_birth: datetime.date | None
) -> list[Case]:
    """The latest case of each person matching these identifiers (unscoped: emergency access
    only, called by ``cases.services.break_glass_request`` after its checks and logging)."""
    found = people_by_identifiers(
        nhs_number=nhs_number, family_name=family_name, date_of_birth=date_of_birth
    )
    cases = (
        Case.objects.filter(person__in=found)
        .select_related("person")
        .order_by("person_id", "-created_at")
    )
    latest: dict[uuid.UUID, Case] = {}
    for case in cases:
        latest.setdefault(case.person_id, case)
    return list(latest.values())


def case_list_visible_to(*, user: User) -> QuerySet[Case]:
    """The case list's rows: only the columns it shows (no more personal data than it needs,
    and a tenth of the columns to read and turn into objects)."""
    return access.cases_visible_to(user=user).only(
        "id",
        "state",
        "opened_at",
        "times_reopened",
        "person__id",
        "person__given_name",
        "person__family_name",
        "person__date_of_birth",
    )


def person_cases(*, user: User, person: Person) -> list[Case]:
    return list(access.cases_visible_to(user=user).filter(person=person))


# --- single records inside a case, and emergency access -------------------------------


def risk_for(
    *, user: User, case_id: uuid.UUID | str, risk_id: uuid.UUID | str
) -> tuple[Case, Risk]:
    """A case the user may see and one of its risks; the same 404 for missing and not allowed."""
    from django.http import Http404

    from cases.models import Risk

    case = access.case_for(user=user, case_id=case_id)
    try:
        return case, Risk.objects.get(pk=risk_id, case=case)
    except (Risk.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def involvement_for(
    *, user: User, case_id: uuid.UUID | str, involvement_id: int | str
) -> tuple[Case, CaseAgency]:
    """A case the user may see and one agency's current involvement in it; the same 404 for
    missing and not allowed."""
    from django.http import Http404

    from cases.models import CaseAgency

    case = access.case_for(user=user, case_id=case_id)
    try:
        involvement = CaseAgency.objects.select_related("agency", "named_worker").get(
            pk=involvement_id, case=case, left_at__isnull=True
        )
    except (CaseAgency.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    involvement.case = case
    return case, involvement


def named_worker_history(*, involvement: CaseAgency) -> list[NamedWorkerChange]:
    """Who the agency's named worker on the case has been, newest change first (and the
    involvement's ``worker_since`` and ``previous_worker`` set: ``with_worker_dates``)."""
    from cases.models import NamedWorkerChange

    history = list(
        NamedWorkerChange.objects.filter(involvement=involvement)
        .select_related("worker_before", "worker_after", "changed_by")
        .order_by("-changed_on", "-recorded_at", "-pk")
    )
    with_worker_dates([involvement], history)
    return history


def with_worker_dates(
    involvements: list[CaseAgency], changes: list[NamedWorkerChange]
) -> list[CaseAgency]:
    """Set on each involvement ``worker_since``, the day its named worker took over (the
    day the agency joined when no change is recorded), and ``previous_worker``."""
    from django.utils import timezone

    latest: dict[int, NamedWorkerChange] = {}
    for change in changes:
        seen = latest.get(change.involvement_id)
        if seen is None or (change.changed_on, change.recorded_at) > (
            seen.changed_on,
            seen.recorded_at,
        ):
            latest[change.involvement_id] = change
    for i in involvements:
        last = latest.get(i.pk)
        i.worker_since = (  # type: ignore[attr-defined]
            last.changed_on
            if last is not None
            else (timezone.localdate(i.joined_at) if i.named_worker_id else None)
        )
        i.previous_worker = last.worker_before if last else None  # type: ignore[attr-defined]
    return involvements


def risk_closure_state(*, user: User, risk: Risk) -> dict[str, Any]:
    """Who has agreed that an open risk can close (to the risk as it is now), who has not,
    and whether the user's agency can still agree."""
    from cases.models import RiskClosureAgreement, RiskOwner

    agreements = list(
        RiskClosureAgreement.objects.filter(risk=risk, risk_version=risk.version).select_related(
            "agency", "agreed_by"
        )
    )
    agreed = {a.agency_id for a in agreements}
    owners = RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).select_related("agency")
    return {
        "agreements": agreements,
        "waiting_for": [o.agency for o in owners if o.agency_id not in agreed],
        "can_agree": access.can_agree_risk_closure(user, risk) and user.agency_id not in agreed,
        "can_reopen": access.can_reopen_risk(user, risk),
    }


def emergency_accesses_of(*, case: Case) -> list[BreakGlassAccess]:
    """The latest emergency accesses to a case, for its page."""
    from cases.models import BreakGlassAccess

    return list(BreakGlassAccess.objects.filter(case=case).select_related("user", "agency")[:20])


def emergency_grants_to_review(*, user: User) -> list[BreakGlassAccess]:
    """Emergency accesses for the chair to review, those not yet reviewed first."""
    from cases.models import BreakGlassAccess

    if not access.can_review_emergency_access(user):
        return []
    return list(
        BreakGlassAccess.objects.select_related(
            "user", "agency", "case__person", "reviewed_by"
        ).order_by("reviewed_at", "-started_at")[:200]
    )


def emergency_grant_for(*, user: User, grant_id: uuid.UUID | str) -> BreakGlassAccess:
    """One emergency access, for the chair who reviews it; a 404 for anyone else."""
    from django.http import Http404

    from cases.models import BreakGlassAccess

    if not access.can_review_emergency_access(user):
        raise Http404
    try:
        return BreakGlassAccess.objects.get(pk=grant_id)
    except (BreakGlassAccess.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def agreed_care_plan(*, case: Case) -> CarePlan | None:
    """The care plan in force, if one has been agreed."""
    from cases.models import CarePlan

    return CarePlan.objects.filter(case=case, state=CarePlan.State.AGREED).first()


def care_plan_version(*, case: Case, version: int) -> dict[str, Any]:
    """One version of a case's care plan, the agreed one before it and every version (404 if
    there is no such version)."""
    from django.http import Http404

    from cases.models import CarePlan

    plans = {p.version: p for p in CarePlan.objects.filter(case=case)}
    plan = plans.get(version)
    if plan is None:
        raise Http404
    previous = next(
        (
            plans[v]
            for v in sorted(plans, reverse=True)
            if v < version and plans[v].state != "draft"
        ),
        None,
    )
    return {
        "plan": plan,
        "items": care_plan_items(plan=plan),
        "previous": previous,
        "versions": sorted(plans.values(), key=lambda p: -p.version),
    }


def care_plan_items(*, plan: CarePlan | None) -> list[CarePlanItem]:
    """A care plan's items, with their agencies and named workers (none for no plan)."""
    return list(plan.items.select_related("agency", "named_worker")) if plan else []


def care_plan_draft_or_next(*, case: Case) -> CarePlan:
    """The case's draft plan; or, with none, the next version as it would start (unsaved,
    its items those of the agreed plan): the first change saves it (services.care_plan_draft)."""
    from django.db.models import Max

    from cases.models import CarePlan

    draft = CarePlan.objects.filter(case=case, state=CarePlan.State.DRAFT).first()
    if draft is not None:
        return draft
    latest = CarePlan.objects.filter(case=case, state=CarePlan.State.AGREED).first()
    number = (CarePlan.objects.filter(case=case).aggregate(n=Max("version"))["n"] or 0) + 1
    return CarePlan(case=case, version=number, summary=latest.summary if latest else "")
