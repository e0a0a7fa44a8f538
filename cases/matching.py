"""Is this the same person? Matching by NHS number, or by name and date of birth.

Names are compared allowing for spelling variants (Jaro-Winkler similarity and
a phonetic code), common nicknames (Kate / Katherine) and recorded aliases.
"""

from __future__ import annotations

import datetime
from functools import cache

import jellyfish
from anyascii import anyascii
from nicknames import NickNamer

SIMILAR = 0.88


def normalise(name: str) -> str:
    return "".join(ch for ch in anyascii(name or "").lower() if ch.isalpha())


@cache
def _nicknamer() -> NickNamer:
    return NickNamer()


@cache
def _name_family(given: str) -> frozenset[str]:
    """A given name with its nicknames and the names it is a nickname of."""
    nn = _nicknamer()
    related = {given} | nn.nicknames_of(given) | nn.canonicals_of(given)
    for canonical in nn.canonicals_of(given):
        related |= nn.nicknames_of(canonical)
    return frozenset(normalise(n) for n in related)


def phonetic_key(name: str) -> str:
    n = normalise(name)
    return jellyfish.metaphone(n) if n else ""


def _similar(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    if jellyfish.jaro_winkler_similarity(a, b) >= SIMILAR:
        return True
    return jellyfish.metaphone(a) == jellyfish.metaphone(b)


def given_names_match(a: str, b: str) -> bool:
    na, nb = normalise(a), normalise(b)
    return _similar(na, nb) or nb in _name_family(na) or na in _name_family(nb)


def family_names_match(a: str, b: str) -> bool:
    return _similar(normalise(a), normalise(b))


def split_full_name(full: str) -> tuple[str, str]:
    parts = full.strip().split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


def names_of(given: str, family: str, other_names: str = "") -> list[tuple[str, str]]:
    """The person's name and each alias as (given, family) pairs."""
    names = [(given, family)]
    names.extend(
        split_full_name(alias) for alias in (other_names or "").split(",") if alias.strip()
    )
    return names


def same_person(
    *,
    given: str,
    family: str,
    date_of_birth: datetime.date | None,
    nhs_number: str = "",
    other_names: str = "",
    candidate_given: str,
    candidate_family: str,
    candidate_dob: datetime.date | None,
    candidate_nhs: str = "",
    candidate_other_names: str = "",
) -> bool:
    if nhs_number and candidate_nhs:
        return nhs_number == candidate_nhs
    if date_of_birth is None or candidate_dob != date_of_birth:
        return False
    ours = names_of(given, family, other_names)
    theirs = names_of(candidate_given, candidate_family, candidate_other_names)
    for g1, f1 in ours:
        for g2, f2 in theirs:
            if family_names_match(f1, f2) and (not g1 or not g2 or given_names_match(g1, g2)):
                return True
    return False


# --- strict agreement: may an NHS-number match be linked without asking? -------------
#
# ``same_person`` above is deliberately generous: it finds *candidates* for a person
# to look at (spelling variants, nicknames, aliases; and, where both sides have one,
# the NHS number alone). A checksum-valid typo in an NHS number is still a valid NHS
# number, so a number on its own must never move a referral into someone else's
# record. The rule below decides when the identifiers *agree* closely enough for a
# referral to be pre-linked to an existing person (the chair still confirms it at
# acceptance); anything less is only proposed to the chair, side by side.
#
# Identifiers agree when ALL of these hold:
#   * date of birth: both known and exactly equal;
#   * name: for some pair of names (the name itself or a recorded alias, on either
#     side) the family names are equal once normalised (case, accents, spaces,
#     hyphens and apostrophes ignored: "O'Brien" == "obrien") AND the given names
#     start with the same letter once normalised ("Kate" / "Katherine");
#   * NHS number: equal, or missing on one side (never two different numbers).


def family_names_agree(a: str, b: str) -> bool:
    """Equal once normalised; a blank name agrees with nothing."""
    na = normalise(a)
    return bool(na) and na == normalise(b)


def given_initials_agree(a: str, b: str) -> bool:
    """The same first letter once normalised; a blank name agrees with nothing."""
    na, nb = normalise(a), normalise(b)
    return bool(na) and bool(nb) and na[0] == nb[0]


def names_agree(
    *,
    given: str,
    family: str,
    other_names: str = "",
    candidate_given: str,
    candidate_family: str,
    candidate_other_names: str = "",
) -> bool:
    ours = names_of(given, family, other_names)
    theirs = names_of(candidate_given, candidate_family, candidate_other_names)
    return any(
        family_names_agree(f1, f2) and given_initials_agree(g1, g2)
        for g1, f1 in ours
        for g2, f2 in theirs
    )


def dates_of_birth_agree(a: datetime.date | None, b: datetime.date | None) -> bool:
    return a is not None and a == b


def nhs_numbers_conflict(a: str, b: str) -> bool:
    """Two different NHS numbers (one missing is no conflict)."""
    return bool(a) and bool(b) and a != b


def identifiers_agree(
    *,
    given: str,
    family: str,
    date_of_birth: datetime.date | None,
    nhs_number: str = "",
    other_names: str = "",
    candidate_given: str,
    candidate_family: str,
    candidate_dob: datetime.date | None,
    candidate_nhs: str = "",
    candidate_other_names: str = "",
) -> bool:
    """The strict rule above: may these two sets of identifiers be linked without asking?"""
    return (
        dates_of_birth_agree(date_of_birth, candidate_dob)
        and not nhs_numbers_conflict(nhs_number, candidate_nhs)
        and names_agree(
            given=given,
            family=family,
            other_names=other_names,
            candidate_given=candidate_given,
            candidate_family=candidate_family,
            candidate_other_names=candidate_other_names,
        )
    )
