"""The service navigation: one list, filtered by what the user's roles allow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch

from csf_portal.urlpaths import path_to


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | tuple[str, ...] | None = None  # any of these; None: everyone


# Capabilities add their entries here as they arrive.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("My work", "home"),
    NavItem("Triage", "referrals:triage", "csf_portal.triage_referral"),
    NavItem("Cases", "cases:list", "csf_portal.make_referral"),
    NavItem("Referrals", "referrals:list", "csf_portal.make_referral"),
    NavItem(
        "Forums",
        "forums:index",
        ("csf_portal.attend_forum", "csf_portal.work_system_issues", "csf_portal.make_referral"),
    ),
    NavItem("Outcomes", "reports:outcomes", ("csf_portal.view_outcomes",)),
    NavItem("System issues", "forums:issues", ("csf_portal.view_outcomes",)),
    NavItem("Emergency access", "cases:emergency_review", "csf_portal.triage_referral"),
    NavItem("Subject access", "reports:subject_access", "csf_portal.triage_referral"),
    NavItem("Role changes", "role_changes", "csf_portal.triage_referral"),
    NavItem("Administration", "admin:index", "csf_portal.administer_portal"),
)


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    if not user.is_authenticated:
        return []
    items: list[dict[str, Any]] = []
    # What ``user.has_perm`` would answer for each, read once rather than per entry.
    everything = user.is_active and user.is_superuser
    granted = user.get_all_permissions() if user.is_active and not everything else set()
    for item in NAV_ITEMS:
        wanted = (item.permission,) if isinstance(item.permission, str) else item.permission
        if wanted and not everything and not any(p in granted for p in wanted):
            continue
        try:
            href = path_to(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "href": href, "active": False})
    # The most specific link containing the current page is the active one.
    matching = [
        i
        for i in items
        if current_path == i["href"] or (i["href"] != "/" and current_path.startswith(i["href"]))
    ]
    if matching:
        max(matching, key=lambda i: len(i["href"]))["active"] = True
    return items
