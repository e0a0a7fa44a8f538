"""Forum reads, scoped: who may see which meeting, item, action and issue.

Members see the meetings of their forums and, once published, the agendas;
invited services see only the items they were invited to; the chair sees all.
What an item says about a person (the name, the minutes, case actions) shows
only where ``access`` lets the viewer see that case now.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

import access
from cases.models import CarePlan, Case
from csf_portal.models import AccessEvent, Agency, Role, User
from forums.models import (
    Action,
    AgendaItem,
    Attendance,
    Forum,
    ForumDecision,
    Invitation,
    Meeting,
    MinutesAmendment,
    SystemIssue,
)

AGENDA_NORM = (3, 6)  # cases per CSF meeting: warn outside it, never forbid

# A case is due for review when it has not been discussed for this long.
REVIEW_AFTER = {
    Case.State.ACTIVE: datetime.timedelta(days=56),
    Case.State.MONITORING: datetime.timedelta(days=91),
}


def _member_forum_ids(user: User) -> set[int]:
    return access.forum_ids_sitting_in(user)


def meetings_visible_to(*, user: User) -> QuerySet[Meeting]:
    return access.meetings_visible_to(user=user)


def meeting_for(*, user: User, meeting_id: uuid.UUID | str) -> Meeting:
    try:
        return meetings_visible_to(user=user).get(pk=meeting_id)
    except (Meeting.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such meeting") from exc


def upcoming_meetings(*, user: User, limit: int = 5) -> list[Meeting]:
    since = timezone.now() - datetime.timedelta(hours=12)
    return list(
        meetings_visible_to(user=user)
        .filter(starts_at__gte=since)
        .annotate(item_count=Count("items"))
        .order_by("starts_at")[:limit]
    )


def meeting_list(*, user: User) -> dict[str, list[Meeting]]:
    now = timezone.now()
    meetings = meetings_visible_to(user=user).annotate(item_count=Count("items"))
    return {
        "upcoming": list(meetings.filter(starts_at__gte=now).order_by("starts_at")[:12]),
        "past": list(meetings.filter(starts_at__lt=now).order_by("-starts_at")[:24]),
    }


def items_visible(*, user: User, meeting: Meeting) -> QuerySet[AgendaItem]:
    """The items of a meeting the user may see listed."""
    items = AgendaItem.objects.filter(meeting=meeting)
    if access.can_run_forum(user, meeting.forum):
        return items
    if meeting.state == Meeting.State.PLANNED:
        return items.none()
    if meeting.forum_id in _member_forum_ids(user):
        return items
    return items.filter(Q(invitations__agency_id=user.agency_id) | Q(presenter=user)).distinct()


def item_for(*, user: User, meeting: Meeting, item_id: int | str) -> AgendaItem:
    try:
        return (
            items_visible(user=user, meeting=meeting)
            .select_related("case__person", "system_issue", "presenter", "meeting__forum")
            .get(pk=item_id)
        )
    except (AgendaItem.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such item") from exc


def _log_case_reads(
    *, user: User, cases: list[Case], request: HttpRequest | None, reason: str
) -> None:
    """One access-log row per person whose details the page shows."""
    if not cases:
        return
    path = request.get_full_path()[:500] if request is not None else ""
    ip = access.client_ip(request)
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                user=user,
                agency_id=user.agency_id,
                object_type="cases.case",
                object_id=str(case.pk),
                person_id=case.person_id,
                path=path,
                reason=reason,
                ip_address=ip,
            )
            for case in cases
        ]
    )


def meeting_page(
    *, user: User, meeting: Meeting, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Everything the meeting page shows, in a fixed number of queries.

    The items' decisions, actions and amendments are read once each for all the items
    (amendments with the minutes' own), and the cases on the agenda are checked once,
    for the items shown and for the meeting pack (ADR 0006).
    """
    items = list(
        items_visible(user=user, meeting=meeting)
        .select_related("case__person", "system_issue", "presenter__agency")
        .prefetch_related(
            Prefetch(
                "invitations",
                queryset=Invitation.objects.select_related("agency").order_by("agency__name"),
            )
        )
        .order_by("order")
    )
    runner = access.can_run_forum(user, meeting.forum)
    # The pack is for those who may see every case on the agenda, shown to them or not.
    if runner:  # sees every item
        agenda_case_ids = {i.case_id for i in items if i.case_id is not None}
        has_items = bool(items)
    else:
        every = list(AgendaItem.objects.filter(meeting=meeting).values_list("case_id", flat=True))
        agenda_case_ids = {c for c in every if c is not None}
        has_items = bool(every)
    visible = access.case_ids_visible_among(user=user, case_ids=agenda_case_ids)
    item_ids = [i.pk for i in items]
    decisions = list(
        ForumDecision.objects.filter(item_id__in=item_ids)
        .select_related("agency", "risk")
        .order_by("decided_at", "pk")
    )
    actions = list(
        Action.objects.filter(item_id__in=item_ids)
        .select_related("owner_agency", "owner")
        .order_by("due_on", "created_at", "pk")
    )
    amendments = list(  # the items' and the minutes' own
        MinutesAmendment.objects.filter(Q(item_id__in=item_ids) | Q(meeting=meeting, item=None))
        .select_related("made_by")
        .order_by("made_at", "pk")
    )
    shown_cases = []
    for item in items:
        item.can_see_case = item.case_id is None or item.case_id in visible  # type: ignore[attr-defined]
        if item.case is not None and item.can_see_case:  # type: ignore[attr-defined]
            shown_cases.append(item.case)
        item.shown_decisions = [d for d in decisions if d.item_id == item.pk]  # type: ignore[attr-defined]
        item.shown_actions = [a for a in actions if a.item_id == item.pk]  # type: ignore[attr-defined]
        item.shown_amendments = [a for a in amendments if a.item_id == item.pk]  # type: ignore[attr-defined]
    _log_case_reads(user=user, cases=shown_cases, request=request, reason="forum meeting")
    attendance = list(
        Attendance.objects.filter(meeting=meeting)
        .select_related("user", "agency", "item")
        .order_by("agency__name", "user__last_name", "item__order")
    )
    if not runner:
        shown = {i.pk for i in items}
        attendance = [a for a in attendance if a.item_id is None or a.item_id in shown]
    return {
        "items": items,
        "runner": runner,
        "warnings": agenda_warnings(meeting, items) if runner else [],
        "attendance": attendance,
        "amendments": [a for a in amendments if a.item_id is None],
        "case_count": sum(1 for i in items if i.case_id),
        "may_have_pack": has_items
        and access.can_have_meeting_pack(
            meeting, user=user, runs=runner, case_ids=agenda_case_ids, visible_case_ids=visible
        ),
    }


def agenda_candidates(*, user: User, meeting: Meeting) -> dict[str, list[Any]]:
    """Cases for the chair to choose from: awaiting the forum, and due for review.

    Only cases the user may see and the forum may discuss
    (``access.agenda_cases_for``); cases already on this or any later meeting's
    agenda are left out. The page that shows them logs the read.
    """
    now = timezone.now()
    booked = AgendaItem.objects.filter(
        Q(meeting=meeting) | Q(meeting__starts_at__gte=now), case__isnull=False
    ).values("case_id")
    allowed = access.agenda_cases_for(user=user, forum=meeting.forum).values("pk")
    cases = (
        Case.objects.filter(pk__in=allowed)
        .exclude(state=Case.State.CLOSED)
        .exclude(pk__in=booked)
        .select_related("person")
        .annotate(last_discussed=Max("agenda_items__meeting__starts_at"))
    )
    awaiting = list(cases.filter(state=Case.State.AWAITING_FORUM).order_by("opened_at", "pk"))
    review_due = Q()
    for state, after in REVIEW_AFTER.items():
        review_due |= Q(state=state) & (
            Q(last_discussed__isnull=True) | Q(last_discussed__lte=meeting.starts_at - after)
        )
    due = list(cases.filter(review_due).order_by("last_discussed", "opened_at"))
    return {"awaiting": awaiting, "due": due}


# --- actions ----------------------------------------------------------------------


def action_log_visible_to(user: User) -> bool:
    return access.can_view_action_log(user)


def _mark_readable(user: User, actions: list[Action]) -> list[Action]:
    """Case actions say what they are only to those who may see the case now."""
    visible = access.case_ids_visible_among(user=user, case_ids=[a.case_id for a in actions])
    for a in actions:
        a.readable = a.case_id is None or a.case_id in visible  # type: ignore[attr-defined]
    return actions


def action_log(
    *,
    user: User,
    forum: str = "",
    agency: int | None = None,
    status: str = "",
    theme: str = "",
    mine: bool = False,
) -> QuerySet[Action]:
    """The action log across both forums, filtered. Rows read with ``readable_actions``."""
    if not action_log_visible_to(user):
        return Action.objects.none()
    actions = Action.objects.select_related(
        "forum", "meeting", "owner_agency", "owner", "system_issue"
    )
    if forum:
        actions = actions.filter(forum__kind=forum)
    if agency:
        actions = actions.filter(owner_agency_id=agency)
    today = timezone.localdate()
    if status == "overdue":
        actions = actions.filter(status__in=Action.OPEN_STATES, due_on__lt=today)
    elif status == "open":
        actions = actions.filter(status__in=Action.OPEN_STATES)
    elif status in Action.Status.values:
        actions = actions.filter(status=status)
    if theme:
        actions = actions.filter(system_issue__theme=theme)
    if mine:
        actions = actions.filter(owner=user)
    return actions.order_by("due_on", "created_at")


def readable_actions(*, user: User, actions: Iterable[Action]) -> list[Action]:
    return _mark_readable(user, list(actions))


def action_for(*, user: User, action_id: uuid.UUID | str) -> Action:
    try:
        action = Action.objects.select_related(
            "forum",
            "meeting__forum",
            "owner_agency",
            "owner",
            "system_issue",
            "case__person",
            "item",
        ).get(pk=action_id)
    except (Action.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such action") from exc
    if not action_log_visible_to(user):
        raise Http404("No such action")
    if action.case is not None and not access.can_view_case(user, action.case):
        raise Http404("No such action")
    return action


def my_actions(*, user: User) -> dict[str, Any]:
    """My work: the open actions of the user's agency, overdue first."""
    if user.agency_id is None or access.has_role(user, Role.COMMISSIONER):
        return {"open": [], "total": 0, "overdue": 0, "mine": 0}
    today = timezone.localdate()
    actions = readable_actions(
        user=user,
        actions=Action.objects.filter(owner_agency_id=user.agency_id, status__in=Action.OPEN_STATES)
        .select_related("forum", "owner", "owner_agency", "meeting")
        .order_by("due_on")[:20],
    )
    counts = Action.objects.filter(
        owner_agency_id=user.agency_id, status__in=Action.OPEN_STATES
    ).aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        mine=Count("pk", filter=Q(owner=user)),
    )
    return {"open": actions, **counts}


# --- system issues --------------------------------------------------------------------


def issues_visible_to(user: User) -> bool:
    return access.can_view_system_issues(user)


def system_issues(*, user: User, theme: str = "", status: str = "") -> QuerySet[SystemIssue]:
    if not issues_visible_to(user):
        return SystemIssue.objects.none()
    issues = SystemIssue.objects.annotate(
        case_count=Count("cases", distinct=True),
        open_actions=Count(
            "actions", filter=Q(actions__status__in=Action.OPEN_STATES), distinct=True
        ),
    )
    if theme:
        issues = issues.filter(theme=theme)
    if status:
        issues = issues.filter(status=status)
    return issues.order_by("-created_at")


def issue_for(*, user: User, issue_id: uuid.UUID | str) -> SystemIssue:
    if not issues_visible_to(user):
        raise Http404("No such issue")
    try:
        return SystemIssue.objects.select_related(
            "raised_by__agency", "raised_from__meeting__forum"
        ).get(pk=issue_id)
    except (SystemIssue.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such issue") from exc


def issue_page(
    *, user: User, issue: SystemIssue, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The issue, its actions, and linked cases only as far as the viewer may see them."""
    case_ids = list(issue.cases.values_list("pk", flat=True))
    visible = access.case_ids_visible_among(user=user, case_ids=case_ids)
    visible_cases = list(Case.objects.filter(pk__in=visible).select_related("person"))
    _log_case_reads(user=user, cases=visible_cases, request=request, reason="system issue")
    return {
        "linked_count": len(case_ids),
        "visible_cases": visible_cases,
        "actions": readable_actions(
            user=user,
            actions=Action.objects.filter(system_issue=issue).select_related(
                "owner_agency", "owner", "forum", "meeting"
            ),
        ),
    }


def case_forum_history(*, user: User, case: Case) -> dict[str, Any]:
    """For the case page: meetings where it was discussed, and its actions."""
    items = list(
        AgendaItem.objects.filter(case=case)
        .select_related("meeting__forum")
        .order_by("-meeting__starts_at")
    )
    actions = list(
        Action.objects.filter(case=case)
        .select_related("owner_agency", "owner", "meeting")
        .order_by("due_on")
    )
    return {
        "discussions": items,
        "open_actions": [a for a in actions if a.is_open],
        "actions": actions,
    }


def agenda_warnings(meeting: Meeting, items: list[AgendaItem] | None = None) -> list[str]:
    """Advice for the chair: the 3-to-6-cases norm, and invitations consent does not cover."""
    if not meeting.forum.discusses_cases:
        return []
    items = items if items is not None else list(meeting.items.all())
    warnings = []
    cases = sum(1 for i in items if i.case_id)
    low, high = AGENDA_NORM
    if cases < low:
        warnings.append(
            f"This agenda has {cases} case{'s' if cases != 1 else ''}: {low} to {high} is usual"
        )
    elif cases > high:
        warnings.append(
            f"This agenda has {cases} cases: more than {high} leaves little time for each "
            "full case discussion"
        )
    invitations = Invitation.objects.filter(item__in=[i for i in items if i.case_id]).values_list(
        "item__order", "item__case__person_id", "agency_id", "agency__name"
    )
    rows = list(invitations)
    covered = access.covered_pairs(
        ((person_id, agency_id) for _, person_id, agency_id, _ in rows),
        use=access.Use.FORUM_DISCUSSION,
    )
    for order, person_id, agency_id, name in sorted(rows):
        if (person_id, agency_id) not in covered:
            warnings.append(
                f"{name} is invited to item {order}, but the person's consent or sharing "
                "basis does not cover them: they will not see the case"
            )
    return warnings


def forum_for(*, kind: str) -> Forum:
    try:
        return Forum.objects.get(kind=kind)
    except Forum.DoesNotExist as exc:
        raise Http404("No such forum") from exc


def forums_run_by(*, user: User) -> list[Forum]:
    return [f for f in Forum.objects.all() if access.can_run_forum(user, f)]


def item_involved_agencies(*, item: AgendaItem) -> list[Agency]:
    """The agencies involved in the item's case now (none for a topic)."""
    if item.case is None:
        return []
    return list(
        Agency.objects.filter(
            pk__in=item.case.involvements.filter(left_at__isnull=True).values("agency_id")
        )
    )


def meeting_attendance(*, meeting: Meeting) -> list[Attendance]:
    return list(Attendance.objects.filter(meeting=meeting).select_related("user", "agency", "item"))


def attendance_for(*, meeting: Meeting, attendance_id: Any) -> Attendance:
    attendance = Attendance.objects.filter(meeting=meeting, pk=attendance_id).first()
    if attendance is None:
        raise Http404("No such attendance")
    return attendance


def item_draft_care_plan(*, item: AgendaItem) -> CarePlan | None:
    """The draft care plan of the item's case, for whoever may see the case."""
    return CarePlan.objects.filter(case=item.case, state=CarePlan.State.DRAFT).first()


def meeting_items(*, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's agenda in order, for its runner's own pages."""
    return list(meeting.items.order_by("order"))


def action_page(
    *, user: User, action: Action, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The action's recent history, and whether its case may be read (the read is logged)."""
    history = list(action.history.select_related("history_user").order_by("-history_date")[:20])
    readable = action.case is not None and access.can_view_case(user, action.case)
    if readable and action.case is not None:
        access.record_access(user=user, obj=action.case, request=request, reason="forum action")
    return {"history": history, "readable": readable or action.case_id is None}
