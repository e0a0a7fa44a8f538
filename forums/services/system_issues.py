"""System issues: raising and updating them (never naming the person)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse

import access
from cases.models import Case
from csf_portal.errors import ConcurrentEdit, DomainError, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Role, User
from csf_portal.notifications import notification_send
from forums.models import (
    AgendaItem,
    SystemIssue,
)
from forums.services._common import _check_minutes_open, _choice, _save, _text


def _names_the_person(text: str, case: Case) -> bool:
    person = case.person
    names = [person.given_name, person.family_name]
    names += [n for n in re.split(r"[,;]", person.other_names or "") if n.strip()]
    for name in names:
        name = name.strip()
        if len(name) >= 3 and re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            return True
    return False


@transaction.atomic
def system_issue_raise(
    *,
    actor: User,
    title: str,
    description: str,
    theme: str,
    item: AgendaItem | None = None,
    cases: Iterable[Case] = (),
) -> SystemIssue:
    """Raise an issue for the SOG: from case learning at a CSF item, or directly.

    SOG members see the issue, not the person: the text may not name anyone
    whose case it comes from.
    """
    if not access.can_work_system_issues(actor):
        raise NotAllowed("Forum chairs and SOG members raise system issues.")
    title = _text(title, field="title", message="Give the issue a short title")
    if len(title) > 200:
        raise DomainError("Use 200 characters or fewer for the title", field="title")
    description = _text(description, field="description", message="Describe the issue")
    theme = _choice(SystemIssue.Theme, theme, field="theme", message="Select the theme")
    linked = list(cases)
    hidden = set(c.pk for c in linked) - access.case_ids_visible_among(
        user=actor, case_ids=[c.pk for c in linked]
    )
    if hidden:
        raise NotAllowed("You can only link cases you can see.")
    if item is not None:
        _check_minutes_open(item.meeting)
        if item.case is not None and item.case not in linked:
            linked.append(item.case)
    for case in linked:
        if _names_the_person(f"{title}\n{description}", case):
            raise DomainError(
                "Do not name the person: SOG members see the issue, not who it is about",
                field="description",
            )
    issue = SystemIssue(
        title=title, description=description, theme=theme, raised_by=actor, raised_from=item
    )
    with acting_as(actor):  # the issue and its links to cases
        issue.save()
        if linked:
            issue.cases.set(linked)
    return issue


@transaction.atomic
def system_issue_update(
    *,
    actor: User,
    issue: SystemIssue,
    status: str,
    recommendation: str,
    expected_version: int,
) -> SystemIssue:
    if not access.can_work_system_issues(actor):
        raise NotAllowed("Forum chairs and SOG members update system issues.")
    issue = SystemIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.version != expected_version:
        raise ConcurrentEdit("Someone else changed this issue while you were editing")
    status = _choice(SystemIssue.Status, status, field="status", message="Select the status")
    recommendation = _text(recommendation, field="recommendation", message="", required=False)
    if status == SystemIssue.Status.WITH_COMMISSIONERS and not recommendation:
        raise DomainError(
            "Write the recommendation to commissioners: the fix is outside the current system",
            field="recommendation",
        )
    for case in issue.cases.select_related("person"):
        if recommendation and _names_the_person(recommendation, case):
            raise DomainError(
                "Do not name the person: commissioners see the issue, not who it is about",
                field="recommendation",
            )
    newly_with_commissioners = (
        status == SystemIssue.Status.WITH_COMMISSIONERS and issue.status != status
    )
    issue.status = status
    issue.recommendation = recommendation
    issue.version += 1
    _save(issue, actor)
    if newly_with_commissioners:
        for user in User.objects.filter(groups__name=Role.COMMISSIONER, is_active=True):
            notification_send(
                user=user,
                text="The System Optimisation Group has a recommendation for commissioners.",
                url=reverse("forums:issue", args=[issue.pk]),
                email_subject="Recommendation from the System Optimisation Group",
            )
    return issue
