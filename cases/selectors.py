"""Person and case reads, scoped through ``access``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

import access
from cases.models import Case, Person
from csf_portal.models import User


def people_by_identifiers(*, nhs_number: str, family_name: str, date_of_birth) -> QuerySet[Person]:
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
    *, nhs_number: str, family_name: str, date_of_birth: Any
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
    latest: dict[Any, Case] = {}
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


def person_referrals(*, user: User, person: Person) -> list[Any]:
    from referrals.models import Referral

    return list(
        access.referrals_visible_to(user=user)
        .filter(person=person)
        .exclude(state=Referral.State.DRAFT)
        .select_related("referring_agency")
        .order_by("-submitted_at")
    )


def person_meam_domains(*, person: Person) -> list[str]:
    """MEAM domains named on any of the person's accepted or waiting referrals."""
    from referrals.models import Referral

    flags = Referral.objects.filter(person=person).exclude(state=Referral.State.DRAFT)
    domains: list[str] = []
    for referral in flags.only(
        "meam_homelessness", "meam_substance_misuse", "meam_offending", "meam_mental_health"
    ):
        for label in referral.meam_domains:
            if label not in domains:
                domains.append(label)
    return domains


def _day_end(day):
    import datetime

    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0)))


def case_page(*, user: User, case: Case) -> dict[str, Any]:
    """Everything the case page shows, in a fixed number of queries."""
    from django.db.models import Prefetch

    from assessments.models import Assessment
    from cases.models import CaseAgency, HandOffAttempt, Risk, RiskLevelChange, RiskOwner
    from forums.models import ForumDecision

    involvements = list(
        CaseAgency.objects.filter(case=case).select_related("agency", "named_worker")
    )
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
    timeline: list[dict[str, Any]] = []
    from cases.models import CarePlan, CarePlanItem

    plans = list(
        CarePlan.objects.filter(case=case).prefetch_related(
            Prefetch(
                "items", queryset=CarePlanItem.objects.select_related("agency", "named_worker")
            )
        )
    )
    for p in plans:
        if p.agreed_at:
            timeline.append({"at": p.agreed_at, "text": f"Care plan version {p.version} agreed"})
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
    for c in level_changes:
        timeline.append(
            {
                "at": c.changed_at,
                "text": f"{c.risk.get_category_display()} risk: {c.get_level_display()}",
            }
        )
    for a in assessments:
        if a.completed_at:
            timeline.append(
                {"at": a.completed_at, "text": f"Assessment by {a.agency}: score {a.total_score}"}
            )
    for d in decisions:
        timeline.append({"at": d.decided_at, "text": f"Forum decision: {d.get_kind_display()}"})
    from cases.models import OutcomeReview

    reviews = list(OutcomeReview.objects.filter(case=case).select_related("recorded_by"))
    for rv in reviews:
        timeline.append(
            {
                "at": rv.created_at,
                "text": f"Outcome review: {rv.emergency_contacts} emergency contacts, "
                f"{rv.bnb_nights} B&B nights",
            }
        )
    from forums.selectors import case_forum_history

    forum = case_forum_history(user=user, case=case)
    for item in forum["discussions"]:
        if item.meeting.has_started:
            timeline.append(
                {"at": item.meeting.starts_at, "text": f"Discussed at the {item.meeting.forum}"}
            )
    for action in forum["actions"]:
        if action.completed_on:
            timeline.append(
                {
                    "at": _day_end(action.completed_on),
                    "text": f"Forum action done by {action.owner_agency}",
                }
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
        "handoff_attempts": HandOffAttempt.objects.filter(case=case).count(),
        "referrals": referrals,
        "timeline": timeline,
        "discussions": forum["discussions"],
        "open_actions": forum["open_actions"],
        "my_agency_involved": any(
            i.agency_id == user.agency_id and i.left_at is None for i in involvements
        ),
    }
