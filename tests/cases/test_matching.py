"""Same-person matching and NHS number validation."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from cases.matching import same_person
from cases.validators import nhs_number_is_valid, validate_nhs_number, validate_no_markup

DOB = datetime.date(1981, 5, 17)


def match(given, family, c_given, c_family, **kw):
    return same_person(
        given=given,
        family=family,
        date_of_birth=kw.pop("dob", DOB),
        candidate_given=c_given,
        candidate_family=c_family,
        candidate_dob=kw.pop("c_dob", DOB),
        **kw,
    )


@pytest.mark.parametrize(
    "given,family,c_given,c_family",
    [
        ("Kate", "Smyth", "Katherine", "Smith"),
        ("Steve", "McDonald", "Stephen", "Macdonald"),
        ("Jon", "O'Neill", "John", "ONeil"),
        ("Siobhan", "Murphy", "Siobhán", "Murphy"),
    ],
)
def test_spelling_variants_and_nicknames_match(given, family, c_given, c_family):
    assert match(given, family, c_given, c_family)


def test_different_people_do_not_match():
    assert not match("Mary", "Jones", "Peter", "Jones")
    assert not match("Mary", "Jones", "Mary", "Williams")
    assert not match("Mary", "Jones", "Mary", "Jones", c_dob=datetime.date(1981, 5, 18))


def test_an_alias_matches():
    assert match("Mary", "Jones", "Maria", "Brown", candidate_other_names="Mary Jones, MJ")


def test_nhs_number_decides_when_both_have_one():
    assert match("A", "B", "C", "D", nhs_number="9434765919", candidate_nhs="9434765919")
    assert not match(
        "Kate", "Smith", "Kate", "Smith", nhs_number="9434765919", candidate_nhs="4010232137"
    )


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "4010232137"])
def test_valid_nhs_numbers(number):
    assert nhs_number_is_valid(number)
    validate_nhs_number(number)


@pytest.mark.parametrize("number", ["4857773456", "943476591", "94347659190", "abcdefghij"])
def test_invalid_nhs_numbers(number):
    assert not nhs_number_is_valid(number)
    with pytest.raises(ValidationError):
        validate_nhs_number(number)


@pytest.mark.parametrize(
    "text", ["<script>alert(1)</script>", "see <b>this</b>", "<img src=x>", "javascript:alert(1)"]
)
def test_markup_is_refused(text):
    with pytest.raises(ValidationError):
        validate_no_markup(text)


@pytest.mark.parametrize("text", ["score < 5 and > 2", "risk: high -> very high", "A&E x3"])
def test_plain_text_with_symbols_is_fine(text):
    validate_no_markup(text)


# --- the strict rule that decides whether an NHS-number match may be linked ---------


def agree(given, family, c_given, c_family, **kw):
    from cases.matching import identifiers_agree

    return identifiers_agree(
        given=given,
        family=family,
        date_of_birth=kw.pop("dob", DOB),
        candidate_given=c_given,
        candidate_family=c_family,
        candidate_dob=kw.pop("c_dob", DOB),
        **kw,
    )


@pytest.mark.parametrize(
    "given,family,c_given,c_family,kw,expected",
    [
        ("Kate", "Smyth", "Katherine", "Smyth", {}, True),  # same initial, same family name
        ("Sean", "O'Brien", "sean", "OBRIEN", {}, True),  # normalised
        ("Zoë", "Ångström", "Zoe", "Angstrom", {}, True),
        ("Kate", "Smyth", "Kate", "Smith", {}, False),  # a variant is a candidate, not agreement
        ("Kate", "Smyth", "Brian", "Smyth", {}, False),
        ("Kate", "Smyth", "Kate", "Smyth", {"c_dob": datetime.date(1981, 5, 18)}, False),
        ("Kate", "Smyth", "Kate", "Smyth", {"dob": None, "c_dob": None}, False),
        ("", "Smyth", "Kate", "Smyth", {}, False),
        ("Kate", "Smyth", "Kate", "Smyth", {"nhs_number": "9434765919"}, True),
        (
            "Kate",
            "Smyth",
            "Kate",
            "Smyth",
            {"nhs_number": "9434765919", "candidate_nhs": "4010232137"},
            False,
        ),
        ("Kate", "Jones", "Kate", "Smyth", {"candidate_other_names": "Kate Jones"}, True),
    ],
)
def test_identifiers_agree_only_on_exact_dob_family_name_and_initial(
    given, family, c_given, c_family, kw, expected
):
    assert agree(given, family, c_given, c_family, **kw) is expected


def test_an_nhs_number_alone_is_a_candidate_but_never_agreement():
    kw = {"nhs_number": "9434765919", "candidate_nhs": "9434765919"}
    other_dob = {"c_dob": datetime.date(1970, 1, 1)}
    assert match("Kate", "Smyth", "Brian", "Okoro", **kw, **other_dob)
    assert not agree("Kate", "Smyth", "Brian", "Okoro", **kw, **other_dob)
