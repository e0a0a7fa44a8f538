"""The three forums, created by a data migration (and restored in tests after flushes)."""

from __future__ import annotations

from typing import Any

FORUMS = [
    ("csf", "Creative Solutions Forum"),
    ("sog", "System Optimisation Group"),
    ("practitioner", "Practitioner forum"),
]


def sync_forums(apps: Any, schema_editor: Any) -> None:
    Forum = apps.get_model("forums", "Forum")
    for kind, name in FORUMS:
        Forum.objects.get_or_create(kind=kind, defaults={"name": name})
