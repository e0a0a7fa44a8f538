"""Validators every app's text input shares."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_MARKUP = re.compile(r"<\s*[a-zA-Z!/?]|javascript:", re.IGNORECASE)


def validate_no_markup(value: str) -> None:
    """Free text is plain text: refuse HTML or script rather than store it."""
    if value and _MARKUP.search(value):
        raise ValidationError(
            "Remove the HTML or script from this answer: use plain text, without < and > tags"
        )
