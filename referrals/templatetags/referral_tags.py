"""Summary-list rows for the referral's check-answers and detail pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


def _row(label: str, value: Any, change: bool, step: str, referral: Any) -> dict[str, Any]:
    return {
        "label": label,
        "value": value,
        "change_url": (
            reverse("referrals:step", args=[referral.pk, step]) + "?change=1" if change else ""
        ),
    }


@register.inclusion_tag("components/summary_row.html")
def summary_row(label: str, value: Any, change: bool, step: str, referral: Any) -> dict[str, Any]:
    return _row(label, value, change, step, referral)


@register.inclusion_tag("components/summary_row.html")
def summary_list_row(label: str, items: Any, change: bool, step: str, referral: Any) -> dict:
    return {**_row(label, None, change, step, referral), "items": list(items)}
