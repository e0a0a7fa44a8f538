"""Person and case reads, scoped through ``access``."""

from __future__ import annotations

import datetime
import uuid

from django.db.models import QuerySet

import access
from cases.models import Case, Person
from csf_portal.models import User


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
