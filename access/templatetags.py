"""``{% load access %}``: what a page may offer, asked of the access rules themselves.

``{% can "run_forum" forum as may_run %}`` sets ``may_run`` to
``access.can_run_forum(user, forum)`` for the signed-in user; ``{% can "work_system_issues"
as may_raise %}`` asks a rule that needs no object. Only the rules named in ``OFFERS``
can be asked, and an unknown name is an error, never a quiet "no". Django's
``perms`` would let a superuser through every check: templates do not use it.

Registered as the ``access`` library in ``TEMPLATES`` (settings), so ``access`` need not
be an installed app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template

import access

register = template.Library()

#: What a template may ask, by name: each is ``access.can_<name>(user, *objects)``.
OFFERS: dict[str, Callable[..., bool]] = {
    name: getattr(access, f"can_{name}")
    for name in (
        "act_as_referrer",
        "add_to_agenda",
        "agree_risk_closure",
        "approve_sharing_basis",
        "be_named_worker",
        "change_named_worker",
        "confirm_person_match",
        "contribute_to_case",
        "decide_sharing_bases",
        "edit_referral",
        "make_referral",
        "manage_standing_membership",
        "own_action",
        "record_consent",
        "record_forum_decisions",
        "reopen_risk",
        "request_emergency_access",
        "request_subject_access",
        "review_emergency_access",
        "run_any_forum",
        "run_forum",
        "triage_referrals",
        "update_action",
        "view_action_log",
        "view_case",
        "view_outcomes",
        "view_person",
        "view_referral",
        "view_role_changes",
        "view_system_issues",
        "work_system_issues",
    )
}


def offer(name: str) -> Callable[..., bool]:
    """The rule a template asks for by ``name``; unknown names raise."""
    try:
        return OFFERS[name]
    except KeyError:
        raise template.TemplateSyntaxError(
            f"{{% can %}}: no access rule called {name!r}; known: {', '.join(sorted(OFFERS))}"
        ) from None


@register.simple_tag(takes_context=True)
def can(context: template.Context, name: str, *objects: Any) -> bool:
    """Whether the signed-in user may do ``name`` (to ``objects``): see ``OFFERS``."""
    rule = offer(name)
    user = context.get("user")
    if user is None:
        request = context.get("request")
        user = getattr(request, "user", None)
    if user is None:
        return False
    return bool(rule(user, *objects))
