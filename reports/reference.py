"""Placeholder unit costs, created by a data migration (and restored in tests after flushes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PLACEHOLDER = "PLACEHOLDER, not a sourced figure: replace with your area's own unit cost"

# Clearly-labelled placeholders: an administrator replaces them with local figures.
COSTS = [
    ("police", Decimal("300.00")),
    ("ambulance", Decimal("250.00")),
    ("ae", Decimal("180.00")),
    ("admission", Decimal("2000.00")),
    ("bnb_night", Decimal("45.00")),
]


def sync_unit_costs(apps: Any, schema_editor: Any) -> None:
    UnitCost = apps.get_model("reports", "UnitCost")
    for item, amount in COSTS:
        UnitCost.objects.get_or_create(
            item=item, defaults={"amount": amount, "source": PLACEHOLDER, "is_placeholder": True}
        )
