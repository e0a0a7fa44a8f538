"""The demo city's organisations and the people in it (``demo/data/people.toml``).

Everyone is fictional. The demo users sign in with the demo password; the other
practitioners, members and delegates the builders add have no usable password.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cases.validators import nhs_check_digit
from csf_portal import services as identity
from csf_portal.models import Agency, AgencyKind, Role, User
from demo import tables


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    agency_slug: str | None
    job_title: str
    roles: tuple[Role, ...]


def person(entry: dict[str, Any]) -> DemoPerson:
    """One person of a data file: ``agency`` (a slug; none for an administrator), ``roles``."""
    return DemoPerson(
        username=entry["username"],
        first_name=entry["first_name"],
        last_name=entry["last_name"],
        agency_slug=entry.get("agency"),
        job_title=entry["job_title"],
        roles=tuple(map(Role, entry["roles"])),
    )


def people_create(
    people: Iterable[DemoPerson],
    *,
    agencies: Mapping[str, Agency],
    existing: Collection[str],
    password: str | None,
) -> dict[str, User]:
    """Make a user of each of ``people`` not in ``existing``; returns them by username.

    With a password they can sign in, at an address of the demo's own; without
    one they cannot, and have no address.
    """
    made: dict[str, User] = {}
    for demo in people:
        if demo.username in existing or demo.username in made:
            continue
        made[demo.username] = identity.user_create(
            username=demo.username,
            password=password,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email=f"{demo.username}@demo.csf-portal.invalid" if password else "",
            agency=agencies[demo.agency_slug] if demo.agency_slug else None,
            job_title=demo.job_title,
            roles=demo.roles,
        )
    return made


def fictional_nhs_numbers(count: int, *, first: int, step: int = 1) -> list[str]:
    """Up to ``count`` valid NHS numbers in the 999 range, which is never issued.

    The nine-digit stems run from ``first`` by ``step``; each valid one gains its
    check digit (a stem with none is skipped).
    """
    numbers: list[str] = []
    stem = first
    while len(numbers) < count and stem <= 999_999_999:
        digits = f"{stem:09d}"
        check = nhs_check_digit(digits)
        if check is not None:
            numbers.append(f"{digits}{check}")
        stem += step
    return numbers


_DATA = tables.load("people")

DEMO_AGENCIES: tuple[tuple[str, str, str], ...] = tuple(
    (slug, name, AgencyKind(kind)) for slug, name, kind in _DATA["agencies"]
)
#: Each demo agency's crisis contacts, by slug (some agencies have none recorded).
DEMO_AGENCY_CONTACTS: dict[str, dict[str, str]] = _DATA.get("contacts", {})
DEMO_USERS: tuple[DemoPerson, ...] = tuple(map(person, _DATA["user"]))
PRACTITIONERS: tuple[DemoPerson, ...] = tuple(map(person, _DATA["practitioner"]))
