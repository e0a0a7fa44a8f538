"""Dates as the portal shows them, without the cost of Django's ``date`` filter.

``{{ value|long_date }}`` is ``{{ value|date:"j F Y" }}`` (4 March 2026) and
``{{ value|short_date }}`` is ``{{ value|date:"j M Y" }}`` (4 Mar 2026), with the
same output: aware date-times are shown in the portal's time zone, and a
missing value gives an empty string (so ``|default:`` still works). Django's
filter parses the format string and translates month names on every call;
a list of 50 cases shows 100 dates (ADR 0006). The service is in English only.

Registered as template builtins (``settings.TEMPLATES``): no ``{% load %}`` needed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import template

register = template.Library()

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS_SHORT = tuple(m[:3] for m in _MONTHS)


@register.filter(expects_localtime=True, is_safe=False)
def long_date(value: Any) -> str:
    if not isinstance(value, datetime.date):
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


@register.filter(expects_localtime=True, is_safe=False)
def short_date(value: Any) -> str:
    if not isinstance(value, datetime.date):
        return ""
    return f"{value.day} {_MONTHS_SHORT[value.month - 1]} {value.year}"
