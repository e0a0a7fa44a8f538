"""Person and case reads, scoped through ``csf_portal.access``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cases.models import Case, Person
from csf_portal import access
from csf_portal.models import User


def case_list_visible_to(*, user: User) -> QuerySet[Case]:
    return access.cases_visible_to(user=user)


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
