"""Referral reads, each scoped to the user through ``access``."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import NullIf
from django.http import HttpRequest
from django.utils import timezone

import access
from cases.matching import (
    dates_of_birth_agree,
    names_agree,
    nhs_numbers_conflict,
    normalise,
    same_person,
)
from cases.models import Person
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


def referral_detail(*, user: User, referral_id: uuid.UUID | str) -> Referral:
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


# How each identifier compares, shown to the chair in words (never colour alone).
MATCHES, DIFFERS, ONE_SIDE = "matches", "differs", "one_side"


def _status(ours: object, theirs: object, agree: bool | None = None) -> str | None:
    if not ours and not theirs:
        return None
    if not ours or not theirs:
        return ONE_SIDE
    if agree is None:
        agree = ours == theirs
    return MATCHES if agree else DIFFERS


def _identifier_rows(referral: Referral, person: Person) -> list[dict[str, Any]]:
    """Both sets of identifiers side by side, each flagged by the matching rules.

    Name and date of birth are compared by the strict rule of
    ``cases.matching.identifiers_agree`` (the rule that decides pre-linking), so what
    the chair sees flagged is exactly what stopped - or allowed - a link.
    Neither record holds an address or postcode; the GP practice stands in for it.
    """

    def dob(value: datetime.date | None) -> str:
        return f"{value:%-d %B %Y}" if value else ""

    ours_name, theirs_name = referral.person_name, str(person).strip()
    name_ok = names_agree(
        given=referral.given_name,
        family=referral.family_name,
        other_names=referral.other_names,
        candidate_given=person.given_name,
        candidate_family=person.family_name,
        candidate_other_names=person.other_names,
    )
    return [
        {
            "label": "Name",
            "ours": ours_name,
            "theirs": theirs_name,
            "status": _status(ours_name, theirs_name, name_ok),
        },
        {
            "label": "Other names",
            "ours": referral.other_names,
            "theirs": person.other_names,
            "status": None,  # shown for the chair; any agreement counts in "Name"
        },
        {
            "label": "Date of birth",
            "ours": dob(referral.date_of_birth),
            "theirs": dob(person.date_of_birth),
            "status": _status(
                referral.date_of_birth,
                person.date_of_birth,
                dates_of_birth_agree(referral.date_of_birth, person.date_of_birth),
            ),
        },
        {
            "label": "NHS number",
            "ours": referral.nhs_number,
            "theirs": person.nhs_number,
            "status": _status(
                referral.nhs_number,
                person.nhs_number,
                not nhs_numbers_conflict(referral.nhs_number, person.nhs_number),
            ),
        },
        {
            "label": "Gender",
            "ours": referral.get_gender_display() if referral.gender else "",
            "theirs": person.get_gender_display() if person.gender else "",
            "status": _status(referral.gender, person.gender),
        },
        {
            "label": "GP practice",
            "ours": referral.gp_practice,
            "theirs": person.gp_practice,
            "status": _status(
                referral.gp_practice,
                person.gp_practice,
                normalise(referral.gp_practice) == normalise(person.gp_practice),
            ),
        },
    ]


def identity_comparisons(*, user: User, referral: Referral) -> list[dict[str, Any]]:
    """Everyone a submitted referral may be about, each beside the referral's identifiers.

    The person it is linked to (identifiers agree), the person proposed at submission
    (NHS number matches, name or date of birth do not), and anyone else the matching
    rules find. Chairs only, before the decision (``access.can_confirm_person_match``).
    The page that shows them records each read through ``identity_comparisons_shown``.
    """
    if not access.can_confirm_person_match(user, referral):
        return []
    found: list[tuple[Person, str]] = []
    if referral.person is not None:
        found.append((referral.person, "linked"))
    if referral.proposed_person is not None:
        found.append((referral.proposed_person, "proposed"))
    found += [(p, "possible") for p in person_matches_for_triage(user=user, referral=referral)]
    seen: set[uuid.UUID] = set()
    comparisons = []
    for person, relation in found:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        rows = _identifier_rows(referral, person)
        comparisons.append(
            {
                "person": person,
                "relation": relation,
                "rows": rows,
                "mismatches": [r["label"] for r in rows if r["status"] == DIFFERS],
            }
        )
    return comparisons


def identity_comparisons_shown(
    *,
    user: User,
    referral: Referral,
    people: list[Person],
    request: HttpRequest | None = None,
) -> None:
    """Each existing person's identifiers shown to the chair are a read of their record."""
    for person in people:
        access.record_access(
            user=user,
            obj=person,
            request=request,
            reason=f"Identity check for referral {referral.short_ref}",
        )


def referral_risks(*, referral: Referral) -> list[ReferralRisk]:
    """The main risks added to a draft so far."""
    return list(referral.risks.all())


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


def state_history(*, referral: Referral) -> list[dict[str, Any]]:
    """Each change of state: to what, when, by whom (from the referral's history)."""
    rows = list(
        referral.history.select_related("history_user").order_by("history_date", "history_id")
    )
    events: list[dict[str, Any]] = []
    previous = None
    for row in rows:
        if row.state != previous:
            events.append(
                {"state": S(row.state).label, "at": row.history_date, "by": row.history_user}
            )
            previous = row.state
    return events


def timeline(*, referral: Referral, user: User) -> list[dict[str, Any]]:
    """The referral's history: each change of state, and - for a chair - who it is about.

    Identity events (a match proposed at submission; the chair's "same person" or
    "new person" at acceptance) would tell a referrer that someone is already known,
    so only a chair sees them.
    """
    chair = access.can_triage_referrals(user)
    rows = list(
        referral.history.select_related("history_user").order_by("history_date", "history_id")
    )
    events: list[dict[str, Any]] = []
    prior = None
    for row in rows:
        if prior is None or row.state != prior.state:
            events.append(
                {"state": S(row.state).label, "at": row.history_date, "by": row.history_user}
            )
        if chair and prior is not None:
            if row.proposed_person_id and row.proposed_person_id != prior.proposed_person_id:
                events.append(
                    {
                        "state": "Possible match for the chair to check",
                        "detail": "The NHS number belongs to someone already known whose name "
                        "or date of birth do not agree. Not linked.",
                        "at": row.history_date,
                        "by": None,
                    }
                )
            if row.identity_decision and row.identity_decision != prior.identity_decision:
                events.append(
                    {
                        "state": "Chair's decision: "
                        + Referral.IdentityDecision(row.identity_decision).label.lower(),
                        "at": row.history_date,
                        "by": row.history_user,
                    }
                )
        prior = row
    return events


# --- a person's referrals, for their page ---------------------------------------


def person_referrals(*, user: User, person: Person) -> list[Referral]:
    return list(
        access.referrals_visible_to(user=user)
        .filter(person=person)
        .exclude(state=Referral.State.DRAFT)
        .select_related("referring_agency")
        .order_by("-submitted_at")
    )


def person_meam_domains(*, person: Person) -> list[str]:
    """MEAM domains named on any of the person's accepted or waiting referrals."""
    flags = Referral.objects.filter(person=person).exclude(state=Referral.State.DRAFT)
    domains: list[str] = []
    for referral in flags.only(
        "meam_homelessness", "meam_substance_misuse", "meam_offending", "meam_mental_health"
    ):
        for label in referral.meam_domains:
            if label not in domains:
                domains.append(label)
    return domains
