"""Referral reads, each scoped to the user through ``csf_portal.access``."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from cases.matching import same_person
from cases.models import Person
from csf_portal import access
from csf_portal.models import User
from referrals.models import Referral, ReferralRisk

S = Referral.State
DECIDED_OR_WAITING = [S.SUBMITTED, S.ACCEPTED, S.REDIRECTED, S.DECLINED]


def _with_details(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related(
        "referrer", "referring_agency", "decided_by", "case", "assessment__agency"
    ).prefetch_related(
        "reasons", Prefetch("risks", queryset=ReferralRisk.objects.order_by("created_at", "id"))
    )


def _earlier_exists() -> Exists:
    """Is there an earlier referral (not a draft or withdrawn) for the same person?"""
    # NULLIF: a blank key compares as NULL and matches nothing, so the index
    # lookup for it is empty rather than every other blank-keyed referral.
    same = (
        Q(person_id=OuterRef("person_id"), person_id__isnull=False)
        | Q(match_key=NullIf(OuterRef("match_key"), Value("")))
        | Q(nhs_number=NullIf(OuterRef("nhs_number"), Value("")))
    )
    return Exists(
        Referral.objects.filter(same, state__in=DECIDED_OR_WAITING)
        .exclude(pk=OuterRef("pk"))
        .filter(submitted_at__lt=OuterRef("submitted_at"))
    )


def referral_list_for(*, user: User) -> QuerySet[Referral]:
    """My referrals: the user's own and their agency's (practitioners), newest first."""
    qs = access.referrals_visible_to(user=user).filter(
        Q(referrer=user) | Q(referring_agency_id=user.agency_id)
    )
    return qs.select_related("referrer", "decided_by").order_by("-updated_at")


def my_work_counts(*, user: User) -> dict[str, int | bool]:
    """Counts for My work: the agency's drafts and open referrals; the triage queue."""
    from django.db.models import Count

    counts: dict[str, int | bool] = {
        "can_refer": access.can_make_referral(user),
        "can_triage": access.can_triage_referrals(user),
    }
    # Only the two counted states are read: an agency may have sent tens of thousands.
    mine = (
        referral_list_for(user=user)
        .filter(state__in=[S.DRAFT, S.SUBMITTED])
        .aggregate(
            drafts=Count("pk", filter=Q(state=S.DRAFT)),
            waiting=Count("pk", filter=Q(state=S.SUBMITTED)),
        )
    )
    counts |= mine
    counts["triage"] = triage_queue(user=user).count() if counts["can_triage"] else 0
    return counts


def triage_queue(*, user: User) -> QuerySet[Referral]:
    """Submitted referrals, oldest first, with a revolving-door flag. Chairs only."""
    if not access.can_triage_referrals(user):
        return Referral.objects.none()
    # Only what the queue shows: each extra join costs planning time on every request.
    return (
        access.referrals_visible_to(user=user)
        .filter(state=S.SUBMITTED)
        .select_related("referring_agency")
        # Into plain lists: a queryset per row for each relation cost more than the rows.
        .prefetch_related(
            Prefetch("reasons", to_attr="reason_list"),
            Prefetch(
                "risks",
                queryset=ReferralRisk.objects.order_by("created_at", "id"),
                to_attr="risk_list",
            ),
        )
        .annotate(has_earlier=_earlier_exists())
        .order_by("submitted_at", "pk")
    )


def referral_detail(*, user: User, referral_id) -> Referral:
    referral = access.referral_for(user=user, referral_id=referral_id)
    return _with_details(Referral.objects.filter(pk=referral.pk)).get()


def _candidates_by_identity(referral: Referral) -> QuerySet[Person]:
    identity = Q()
    if referral.nhs_number:
        identity |= Q(nhs_number=referral.nhs_number)
    if referral.date_of_birth:
        identity |= Q(date_of_birth=referral.date_of_birth)
    if not identity:
        return Person.objects.none()
    return Person.objects.filter(identity)


def _is_match(referral: Referral, person: Person) -> bool:
    return same_person(
        given=referral.given_name,
        family=referral.family_name,
        date_of_birth=referral.date_of_birth,
        nhs_number=referral.nhs_number,
        other_names=referral.other_names,
        candidate_given=person.given_name,
        candidate_family=person.family_name,
        candidate_dob=person.date_of_birth,
        candidate_nhs=person.nhs_number,
        candidate_other_names=person.other_names,
    )


def person_matches_for_referrer(*, user: User, referral: Referral) -> list[Person]:
    """People already known who may be this person - only those the referrer may see.

    A match the referrer may not see is never revealed; the chair sees it at triage.
    """
    from cases.models import CaseVisibility

    if user.agency_id is None or not access.can_make_referral(user):
        return []
    today = timezone.localdate()
    visible = CaseVisibility.objects.filter(
        agency_id=user.agency_id,
        person=OuterRef("pk"),
        covered_from__lte=today,
        covered_until__gte=today,
    )
    candidates = _candidates_by_identity(referral).filter(Exists(visible))
    return [p for p in candidates[:50] if _is_match(referral, p)]


def person_matches_for_triage(*, user: User, referral: Referral) -> list[Person]:
    """Every known person who may be the one referred. Chairs only."""
    if not access.can_triage_referrals(user):
        return []
    return [p for p in _candidates_by_identity(referral)[:50] if _is_match(referral, p)]


def earlier_referrals(*, user: User, referral: Referral) -> list[Referral]:
    """Earlier referrals of the same person that the user may see (the revolving door)."""
    same = Q(match_key=referral.match_key) if referral.match_key else Q(pk__in=[])
    if referral.person_id:
        same |= Q(person_id=referral.person_id)
    if referral.nhs_number:
        same |= Q(nhs_number=referral.nhs_number)
    if referral.date_of_birth:
        same |= Q(date_of_birth=referral.date_of_birth)
    qs = (
        access.referrals_visible_to(user=user)
        .filter(same, state__in=DECIDED_OR_WAITING)
        .exclude(pk=referral.pk)
        .select_related("referring_agency", "case")
        .order_by("-submitted_at")
    )
    return [
        r
        for r in qs[:50]
        if (referral.person_id and r.person_id == referral.person_id)
        or same_person(
            given=referral.given_name,
            family=referral.family_name,
            date_of_birth=referral.date_of_birth,
            nhs_number=referral.nhs_number,
            other_names=referral.other_names,
            candidate_given=r.given_name,
            candidate_family=r.family_name,
            candidate_dob=r.date_of_birth,
            candidate_nhs=r.nhs_number,
            candidate_other_names=r.other_names,
        )
    ]


def state_history(*, referral: Referral) -> list[dict]:
    """Each change of state: to what, when, by whom (from the referral's history)."""
    rows = list(
        referral.history.select_related("history_user").order_by("history_date", "history_id")
    )
    events: list[dict] = []
    previous = None
    for row in rows:
        if row.state != previous:
            events.append(
                {"state": S(row.state).label, "at": row.history_date, "by": row.history_user}
            )
            previous = row.state
    return events
