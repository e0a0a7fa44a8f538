"""Validation of identifiers and free text shared by every form."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from csf_portal.validators import validate_no_markup as validate_no_markup


def normalise_nhs_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for the first nine digits; None where none is possible."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def nhs_number_is_valid(value: str) -> bool:
    """NHS numbers are 10 digits; the last is a modulus 11 check digit."""
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        raise ValidationError("Enter an NHS number with 10 digits, like 943 476 5919")
    if not nhs_number_is_valid(digits):
        raise ValidationError("Enter a real NHS number: the last digit does not match the others")
