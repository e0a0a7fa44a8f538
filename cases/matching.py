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
    for alias in (other_names or "").split(","):
        if alias.strip():
            names.append(split_full_name(alias))
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
