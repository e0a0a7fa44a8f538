"""Forum use cases: meetings, agendas, attendance, minutes, decisions, actions, system issues.

Every write is here, one function per use case, in a transaction, raising a
``DomainError`` when a rule would break. Who may run a meeting: a forum chair
(the role), or the chair named in the forum's standing membership.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

import access
from cases.models import Case, Risk
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Agency, Role, User
from csf_portal.notifications import notification_send
from forums.models import (
    Action,
    AgendaItem,
    Attendance,
    DigestSent,
    Forum,
    ForumDecision,
    ForumMembership,
    Invitation,
    Meeting,
    MinutesAmendment,
    SystemIssue,
)

logger = logging.getLogger(__name__)

AGENDA_NORM = (3, 6)  # cases per CSF meeting: warn outside it, never forbid
MAX_TEXT = 10_000
DEFAULT_MEETING_LENGTH = datetime.timedelta(hours=2)
S = Meeting.State


# --- who may do what --------------------------------------------------------


def can_run_forum(user: User, forum: Forum) -> bool:
    """The forum chair role, or the chair named in this forum's standing membership."""
    if access.has_role(user, Role.FORUM_CHAIR):
        return True
    return ForumMembership.objects.filter(
        ForumMembership.sitting(timezone.localdate()),
        forum=forum,
        user=user,
        role=ForumMembership.Role.CHAIR,
    ).exists()


def can_work_system_issues(user: User) -> bool:
    return access.has_role(user, Role.FORUM_CHAIR) or access.has_role(user, Role.SOG_MEMBER)


def can_update_action(user: User, action: Action) -> bool:
    """The owner, a colleague in the owning agency, or whoever runs the forum."""
    if not getattr(user, "is_active", False):
        return False
    if action.owner_id == user.pk or (
        user.agency_id is not None
        and action.owner_agency_id == user.agency_id
        and not access.has_role(user, Role.COMMISSIONER)
    ):
        return True
    return can_run_forum(user, action.forum)


def _require_runner(actor: User, forum: Forum) -> None:
    if not can_run_forum(actor, forum):
        raise NotAllowed(f"Only the chair of the {forum} does this.")


def _text(value: str, *, field: str, message: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(message, field=field)
    if len(value) > MAX_TEXT:
        raise DomainError(f"Use {MAX_TEXT:,} characters or fewer", field=field)
    return value


def _choice(choices, value: str, *, field: str, message: str):
    try:
        return choices(value)
    except ValueError:
        raise DomainError(message, field=field) from None


def _save(obj, actor: User, **kwargs) -> None:
    with acting_as(actor):
        obj.save(**kwargs)


def _local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _end_of_day(moment: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=23, minute=59, second=59, microsecond=0)


def _meeting_url(meeting: Meeting) -> str:
    return reverse("forums:meeting", args=[meeting.pk])


# --- planning meetings ------------------------------------------------------


def _check_meeting_fields(
    *, forum: Forum, starts_at, ends_at, location: str, online_link: str, exclude=None
) -> datetime.datetime:
    if not location.strip() and not online_link.strip():
        raise DomainError("Give a place or an online link for the meeting", field="location")
    if len(location) > 300:
        raise DomainError("Use 300 characters or fewer for the place", field="location")
    ends_at = ends_at or starts_at + DEFAULT_MEETING_LENGTH
    if ends_at <= starts_at:
        raise DomainError("The meeting must end after it starts", field="ends_at")
    if starts_at > timezone.now() + datetime.timedelta(days=2 * 366):
        raise DomainError("Plan meetings no more than two years ahead", field="starts_at")
    same_day = Meeting.objects.filter(forum=forum, starts_at__date=_local_date(starts_at))
    if exclude is not None:
        same_day = same_day.exclude(pk=exclude.pk)
    if same_day.exists():
        raise DomainError(
            f"There is already a {forum} meeting on {_local_date(starts_at):%-d %B %Y}",
            field="starts_at",
        )
    return ends_at


@transaction.atomic
def meeting_plan(
    *,
    actor: User,
    forum: Forum,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    location: str = "",
    online_link: str = "",
) -> Meeting:
    _require_runner(actor, forum)
    ends_at = _check_meeting_fields(
        forum=forum,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        online_link=online_link,
    )
    meeting = Meeting(
        forum=forum,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location.strip(),
        online_link=online_link.strip(),
        chair=actor,
        access_ends_at=_end_of_day(ends_at),
    )
    _save(meeting, actor)
    return meeting


@transaction.atomic
def meeting_reschedule(
    *,
    actor: User,
    meeting: Meeting,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    location: str = "",
    online_link: str = "",
) -> Meeting:
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state not in (S.PLANNED, S.AGENDA_PUBLISHED):
        raise InvalidTransition("A meeting that has been held cannot be moved")
    meeting.ends_at = _check_meeting_fields(
        forum=meeting.forum,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        online_link=online_link,
        exclude=meeting,
    )
    meeting.starts_at = starts_at
    meeting.location = location.strip()
    meeting.online_link = online_link.strip()
    meeting.access_ends_at = _end_of_day(meeting.ends_at)
    _save(meeting, actor)
    if meeting.state == S.AGENDA_PUBLISHED:
        _notify_people(
            meeting,
            meeting_people(meeting),
            f"The {meeting.forum} meeting has moved to "
            f"{timezone.localtime(starts_at):%-d %B %Y at %H:%M}.",
        )
    return meeting


def monthly_dates(first: datetime.datetime, count: int) -> list[datetime.datetime]:
    """The same weekday of the same week of each month: 2nd Tuesday stays 2nd Tuesday.

    A fifth weekday becomes the month's last such weekday.
    """
    first = timezone.localtime(first)
    week = (first.day - 1) // 7  # 0-based: which occurrence of the weekday
    dates = []
    year, month = first.year, first.month
    for _ in range(count):
        day_one = datetime.date(year, month, 1)
        offset = (first.weekday() - day_one.weekday()) % 7
        day = 1 + offset + 7 * week
        while True:
            try:
                candidate = datetime.date(year, month, day)
                break
            except ValueError:
                day -= 7
        if candidate.month != month:  # pragma: no cover - guarded by the loop above
            candidate -= datetime.timedelta(days=7)
        dates.append(first.replace(year=year, month=month, day=candidate.day))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return dates


@transaction.atomic
def meetings_schedule_monthly(
    *,
    actor: User,
    forum: Forum,
    first_starts_at: datetime.datetime,
    length: datetime.timedelta = DEFAULT_MEETING_LENGTH,
    location: str = "",
    online_link: str = "",
    count: int = 6,
) -> list[Meeting]:
    """Plan ``count`` monthly meetings from the first; days already planned are skipped."""
    _require_runner(actor, forum)
    if first_starts_at < timezone.now():
        raise DomainError("The first meeting must be in the future", field="first_starts_at")
    planned = []
    for starts in monthly_dates(first_starts_at, count):
        if Meeting.objects.filter(forum=forum, starts_at__date=starts.date()).exists():
            continue
        planned.append(
            meeting_plan(
                actor=actor,
                forum=forum,
                starts_at=starts,
                ends_at=starts + length,
                location=location,
                online_link=online_link,
            )
        )
    return planned


# --- the agenda -------------------------------------------------------------


def _state_now(meeting: Meeting) -> str:
    """The meeting's committed state, read under a row lock: the caller's copy may be stale."""
    return Meeting.objects.select_for_update().values_list("state", flat=True).get(pk=meeting.pk)


def _check_editable_agenda(meeting: Meeting) -> None:
    if _state_now(meeting) not in (S.PLANNED, S.AGENDA_PUBLISHED):
        raise InvalidTransition("The agenda cannot change once the meeting has been held")


def _check_presenter(presenter: User | None, case: Case | None, agencies: Iterable[Agency]):
    if presenter is None or case is None:
        return
    allowed = {a.pk for a in agencies}
    if presenter.agency_id not in allowed and not access.is_involved(presenter, case):
        raise DomainError(
            "The presenting practitioner must work for an agency involved in the case "
            "or invited to this item",
            field="presenter",
        )


def _set_invitations(actor: User, item: AgendaItem, agencies: Iterable[Agency]) -> list[Agency]:
    """Make the item's invitations exactly ``agencies``; return the newly invited.

    Invitations are tracked: an agency un-invited loses the meeting's access to
    the case at once, and the history keeps who was invited, by whom and when.
    """
    wanted = {a.pk: a for a in agencies}
    current = set(item.invitations.values_list("agency_id", flat=True))
    for invitation in item.invitations.exclude(agency_id__in=wanted):
        with acting_as(actor):
            invitation.delete()
    new = [a for pk, a in wanted.items() if pk not in current]
    for agency in new:
        _save(Invitation(item=item, agency=agency, invited_by=actor), actor)
    return new


@transaction.atomic
def agenda_item_add(
    *,
    actor: User,
    meeting: Meeting,
    case: Case | None = None,
    topic: str = "",
    system_issue: SystemIssue | None = None,
    presenter: User | None = None,
    starts_at: datetime.time | None = None,
    minutes_allowed: int = 20,
    invited_agencies: Iterable[Agency] = (),
) -> AgendaItem:
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().select_related("forum").get(pk=meeting.pk)
    _check_editable_agenda(meeting)
    topic = _text(topic, field="topic", message="", required=False)
    if len(topic) > 200:
        raise DomainError("Use 200 characters or fewer for the topic", field="topic")
    invited_agencies = list(invited_agencies)
    if case is not None:
        if not meeting.forum.discusses_cases:
            raise DomainError(
                "The System Optimisation Group discusses issues, not people: add a topic or "
                "a system issue",
                field="case",
            )
        if case.state == Case.State.CLOSED:
            raise DomainError("This case is closed. A new referral reopens it", field="case")
        if AgendaItem.objects.filter(meeting=meeting, case=case).exists():
            raise DomainError("This case is already on the agenda", field="case")
        if not access.can_add_to_agenda(actor, case, meeting.forum):
            # Need to know: only a case the chair may see, and whose consent covers
            # discussion at the forum, goes on an agenda (it opens the case to members).
            raise DomainError(
                "Choose a case from the list: it shows the cases you may see whose consent "
                "covers discussion at the forum",
                field="case",
            )
    elif not topic and system_issue is None:
        raise DomainError(
            "Choose a case" if meeting.forum.discusses_cases else "Give a topic or a system issue",
            field="case" if meeting.forum.discusses_cases else "topic",
        )
    if invited_agencies and case is None:
        raise DomainError("Services are invited to a case discussion", field="invited_agencies")
    if not 5 <= minutes_allowed <= 180:
        raise DomainError("Allow between 5 and 180 minutes", field="minutes_allowed")
    _check_presenter(presenter, case, invited_agencies)
    order = (AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("order"))["m"] or 0) + 1
    item = AgendaItem(
        meeting=meeting,
        order=order,
        case=case,
        topic=topic,
        system_issue=system_issue,
        presenter=presenter,
        starts_at=starts_at,
        minutes_allowed=minutes_allowed,
    )
    _save(item, actor)
    new = _set_invitations(actor, item, invited_agencies)
    if case is not None and case.state == Case.State.AWAITING_FORUM:
        access.case_activity_touch(case=case)
    if meeting.state == S.AGENDA_PUBLISHED:
        _notify_invited(meeting, new, presenter)
    return item


@transaction.atomic
def agenda_item_update(
    *,
    actor: User,
    item: AgendaItem,
    presenter: User | None,
    starts_at: datetime.time | None,
    minutes_allowed: int,
    invited_agencies: Iterable[Agency] = (),
) -> AgendaItem:
    meeting = item.meeting
    _require_runner(actor, meeting.forum)
    _check_editable_agenda(meeting)
    invited_agencies = list(invited_agencies)
    if invited_agencies and item.case_id is None:
        raise DomainError("Services are invited to a case discussion", field="invited_agencies")
    if not 5 <= minutes_allowed <= 180:
        raise DomainError("Allow between 5 and 180 minutes", field="minutes_allowed")
    _check_presenter(presenter, item.case, invited_agencies)
    changed_presenter = presenter is not None and presenter.pk != item.presenter_id
    item.presenter = presenter
    item.starts_at = starts_at
    item.minutes_allowed = minutes_allowed
    _save(item, actor)
    new = _set_invitations(actor, item, invited_agencies)
    if meeting.state == S.AGENDA_PUBLISHED:
        _notify_invited(meeting, new, presenter if changed_presenter else None)
    return item


@transaction.atomic
def agenda_item_remove(*, actor: User, item: AgendaItem) -> None:
    meeting = item.meeting
    _require_runner(actor, meeting.forum)
    _check_editable_agenda(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.actions.exists() or item.decisions.exists() or item.minutes:
        raise DomainError("This item has minutes, decisions or actions and stays on the record")
    _set_invitations(actor, item, [])
    with acting_as(actor):
        item.delete()
    for number, rest in enumerate(AgendaItem.objects.filter(meeting=meeting), start=1):
        if rest.order != number:
            rest.order = number
            _save(rest, actor, update_fields=["order", "updated_at"])


@transaction.atomic
def agenda_item_move(*, actor: User, item: AgendaItem, up: bool) -> None:
    meeting = item.meeting
    _require_runner(actor, meeting.forum)
    _check_editable_agenda(meeting)
    items = list(AgendaItem.objects.select_for_update().filter(meeting=meeting))
    index = next(i for i, it in enumerate(items) if it.pk == item.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for number, it in enumerate(items, start=1):
        if it.order != number:
            it.order = number
            _save(it, actor, update_fields=["order", "updated_at"])


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


def meeting_people(meeting: Meeting) -> list[User]:
    """Standing members, presenters and the users of invited agencies."""
    people: dict[int, User] = {}
    for m in ForumMembership.objects.filter(
        forum=meeting.forum, left_on__isnull=True, user__is_active=True
    ).select_related("user"):
        people[m.user.pk] = m.user
    invited = Agency.objects.filter(invitations__item__meeting=meeting)
    for user in _agency_practitioners(invited):
        people.setdefault(user.pk, user)
    for item in meeting.items.select_related("presenter"):
        if item.presenter is not None:
            people.setdefault(item.presenter.pk, item.presenter)
    return list(people.values())


def _agency_practitioners(agencies) -> list[User]:
    return list(
        User.objects.filter(
            agency__in=agencies,
            is_active=True,
            groups__name__in=[Role.PRACTITIONER, Role.FORUM_MEMBER],
        ).distinct()
    )


def _notify_people(meeting: Meeting, people: Iterable[User], text: str) -> None:
    url = _meeting_url(meeting)
    for user in people:
        notification_send(user=user, text=text, url=url, email_subject=f"{meeting.forum}")


def _when(meeting: Meeting) -> str:
    return f"{timezone.localtime(meeting.starts_at):%-d %B %Y at %H:%M}"


def _notify_invited(meeting: Meeting, agencies: list[Agency], presenter: User | None) -> None:
    """Late additions to a published agenda: tell the newly invited (no names in the text)."""
    people = {u.pk: u for u in _agency_practitioners(agencies)} if agencies else {}
    if presenter is not None:
        people.setdefault(presenter.pk, presenter)
    _notify_people(
        meeting,
        people.values(),
        f"Your service is invited to a case discussion at the {meeting.forum} on {_when(meeting)}.",
    )


@transaction.atomic
def agenda_publish(*, actor: User, meeting: Meeting) -> Meeting:
    """Publish the agenda: members and invitees are told; invitees' access window opens."""
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().select_related("forum").get(pk=meeting.pk)
    if meeting.state != S.PLANNED:
        raise InvalidTransition("The agenda has already been published")
    if not meeting.items.exists():
        raise DomainError("Add at least one item before publishing the agenda")
    meeting.state = S.AGENDA_PUBLISHED
    meeting.agenda_published_at = timezone.now()
    meeting.access_ends_at = _end_of_day(meeting.ends_at or meeting.starts_at)
    _save(meeting, actor)
    _notify_people(
        meeting,
        [u for u in meeting_people(meeting) if u.pk != actor.pk],
        f"The agenda for the {meeting.forum} on {_when(meeting)} has been published.",
    )
    return meeting


# --- the meeting itself -------------------------------------------------------


def _check_minutes_open(meeting: Meeting) -> None:
    if _state_now(meeting) == S.MINUTES_APPROVED:
        raise InvalidTransition(
            "The minutes have been approved and are read-only: record an amendment instead"
        )
    if not meeting.has_started:
        raise DomainError("This is recorded once the meeting has started")


@transaction.atomic
def meeting_mark_held(*, actor: User, meeting: Meeting) -> Meeting:
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().select_related("forum").get(pk=meeting.pk)
    if meeting.state not in (S.PLANNED, S.AGENDA_PUBLISHED):
        raise InvalidTransition("This meeting has already been recorded as held")
    if not meeting.has_started:
        raise DomainError("A meeting is held once it has started")
    meeting.state = S.HELD
    _save(meeting, actor)
    return meeting


def attendance_candidates(meeting: Meeting) -> list[User]:
    """People who may be recorded as attending: members, invitees, presenters, the chair."""
    people = {u.pk: u for u in meeting_people(meeting)}
    if meeting.chair is not None:
        people.setdefault(meeting.chair.pk, meeting.chair)
    return sorted(people.values(), key=lambda u: (u.last_name, u.first_name, u.username))


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    meeting: Meeting,
    user: User,
    item: AgendaItem | None = None,
    status: str = Attendance.Status.PRESENT,
) -> Attendance:
    _require_runner(actor, meeting.forum)
    _check_minutes_open(meeting)
    if user.agency_id is None:
        raise DomainError("Only people of a member agency attend", field="user")
    if user.pk not in {u.pk for u in attendance_candidates(meeting)}:
        raise DomainError(
            "Only standing members, invited services and presenters attend: invite their "
            "service to the item first",
            field="user",
        )
    if item is not None and item.meeting_id != meeting.pk:
        raise DomainError("Choose an item of this meeting", field="item")
    attendance = Attendance(
        meeting=meeting,
        user=user,
        agency_id=user.agency_id,
        item=item,
        status=Attendance.Status(status),
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            _save(attendance, actor)
    except IntegrityError as exc:
        raise DomainError(
            f"{user.get_full_name() or user.username} is already recorded"
            + (" for this item" if item else " for the whole meeting"),
            field="user",
        ) from exc
    return attendance


@transaction.atomic
def attendance_remove(*, actor: User, attendance: Attendance) -> None:
    _require_runner(actor, attendance.meeting.forum)
    _check_minutes_open(attendance.meeting)
    with acting_as(actor):
        attendance.delete()


@transaction.atomic
def item_minutes_save(
    *, actor: User, item: AgendaItem, minutes: str, expected_version: int
) -> AgendaItem:
    _require_runner(actor, item.meeting.forum)
    item = AgendaItem.objects.select_for_update().select_related("meeting__forum").get(pk=item.pk)
    _check_minutes_open(item.meeting)
    if item.minutes_version != expected_version:
        raise ConcurrentEdit(
            "Someone else changed these minutes while you were editing. Their version is shown: "
            "add your changes to it"
        )
    item.minutes = _text(minutes, field="minutes", message="Write the minutes for this item")
    item.minutes_version += 1
    _save(item, actor)
    if item.case is not None:
        access.case_activity_touch(case=item.case)
    return item


@transaction.atomic
def item_decision_record(
    *,
    actor: User,
    item: AgendaItem,
    kind: str,
    summary: str,
    agency: Agency | None = None,
    risk: Risk | None = None,
) -> ForumDecision:
    """Record a decision on a case item, and carry it out.

    An agency leaving a case, or giving up its ownership of a risk, is the one
    way either can happen (no hand-offs); the decision is recorded first and
    the case service checks it (``access.forum_decision_allows``).
    """
    from cases import services as case_services
    from cases.models import RiskOwner

    _check_minutes_open(item.meeting)
    kind = _choice(ForumDecision.Kind, kind, field="kind", message="Select the kind of decision")
    if item.case_id is None and kind != ForumDecision.Kind.OTHER:
        raise DomainError("This decision is about a case", field="kind")
    if kind == ForumDecision.Kind.CARE_PLAN_AGREED:
        raise DomainError("Agree the care plan with its own button on this item", field="kind")
    owner = None
    leaving = (ForumDecision.Kind.AGENCY_LEAVES_CASE, ForumDecision.Kind.RISK_OWNER_LEAVES)
    if kind in leaving and agency is None:
        raise DomainError("Choose the agency", field="agency")
    if kind == ForumDecision.Kind.RISK_OWNER_LEAVES:
        if risk is None or risk.case_id != item.case_id:
            raise DomainError("Choose the risk", field="risk")
        owner = RiskOwner.objects.filter(risk=risk, agency=agency, ended_at__isnull=True).first()
        if owner is None:
            raise DomainError(f"{agency} does not own this risk", field="agency")
    if kind == ForumDecision.Kind.AGENCY_LEAVES_CASE and agency is not None:
        return agency_leaves_case_decide(actor=actor, item=item, agency=agency, summary=summary)
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=kind,
        summary=summary,
        case=item.case,
        agency=agency,
        risk=risk,
    )
    if owner is not None:
        case_services.risk_owner_remove(actor=actor, owner=owner, decision=decision)
    return decision


@transaction.atomic
def agency_leaves_case_decide(
    *, actor: User, item: AgendaItem, agency: Agency, summary: str
) -> ForumDecision:
    """The forum decides an agency stops being involved: the decision and its effect, together.

    ``item`` is the case's item on the agenda of the meeting that decided it.
    """
    from cases import services as case_services

    if item.case is None:
        raise DomainError("This decision is about a case", field="item")
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=ForumDecision.Kind.AGENCY_LEAVES_CASE,
        summary=summary,
        case=item.case,
        agency=agency,
    )
    case_services.case_agency_leave(actor=actor, case=item.case, agency=agency, decision=decision)
    return decision


@transaction.atomic
def forum_decision_record(
    *,
    actor: User,
    meeting: Meeting,
    kind: str,
    summary: str,
    case: Case | None = None,
    agency: Agency | None = None,
    risk: Risk | None = None,
    item: AgendaItem | None = None,
) -> ForumDecision:
    """Record a decision against a meeting: who decided (the chair), when, why.

    A decision about a case belongs to that case's item on this meeting's agenda, at
    a meeting that was held (``access.decision_items_for``): it shows on the item's
    minutes, and the chair alone cannot decide outside a discussion.
    """
    _require_runner(actor, meeting.forum)
    summary = _text(summary, field="summary", message="Say what was decided and why")
    kind = _choice(ForumDecision.Kind, kind, field="kind", message="Select the kind of decision")
    if kind in access.CASE_DECISION_KINDS and case is None:
        raise DomainError("This decision is about a case", field="kind")
    if not meeting.has_started:
        raise DomainError("A decision is recorded against a meeting that has taken place")
    if _state_now(meeting) == S.MINUTES_APPROVED:
        raise InvalidTransition(
            "The minutes of that meeting have been approved: record the decision at the next"
        )
    if case is not None and meeting.forum.kind != Forum.Kind.CSF:
        raise DomainError("Decisions about a case are made by the Creative Solutions Forum")
    if case is not None and (
        item is None or item.case_id != case.pk or item.meeting_id != meeting.pk
    ):
        raise DomainError(
            "A decision about this case is recorded on its item of the agenda of a forum "
            "meeting that was held: add the case to a meeting's agenda first",
            field="item",
        )
    if (
        case is not None
        and item is not None
        and not access.decision_items_for(case=case).filter(pk=item.pk).exists()
    ):
        raise DomainError(
            "Publish the agenda, or record that the meeting was held, before recording the "
            "forum's decisions about a case",
            field="item",
        )
    if case is None and item is not None and item.meeting_id != meeting.pk:
        raise DomainError("Choose an item of this meeting", field="item")
    decision = ForumDecision(
        meeting=meeting,
        item=item,
        kind=kind,
        summary=summary,
        case=case,
        agency=agency,
        risk=risk,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    _save(decision, actor)
    return decision


@transaction.atomic
def item_care_plan_agree(*, actor: User, item: AgendaItem):
    """The forum agrees the case's draft care plan in this item's discussion.

    The agreement is a decision on the item (it shows on the minutes); the case
    service checks it before the plan changes.
    """
    from cases import services as case_services
    from cases.models import CarePlan

    _require_runner(actor, item.meeting.forum)
    _check_minutes_open(item.meeting)
    if item.case is None:
        raise DomainError("Care plans are agreed in a case discussion")
    plan = CarePlan.objects.filter(case=item.case, state=CarePlan.State.DRAFT).first()
    if plan is None:
        raise DomainError("This case has no draft care plan to agree: draft one on the case page")
    decision = forum_decision_record(
        actor=actor,
        meeting=item.meeting,
        item=item,
        kind=ForumDecision.Kind.CARE_PLAN_AGREED,
        summary=f"The forum agreed version {plan.version} of the care plan.",
        case=item.case,
    )
    return case_services.care_plan_agree(actor=actor, plan=plan, decision=decision)


def meetings_discussing(*, case: Case) -> list[AgendaItem]:
    return list(
        AgendaItem.objects.filter(case=case)
        .select_related("meeting__forum")
        .order_by("-meeting__starts_at")
    )


@transaction.atomic
def minutes_approve(*, actor: User, meeting: Meeting) -> Meeting:
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().select_related("forum").get(pk=meeting.pk)
    if meeting.state != S.HELD:
        raise InvalidTransition(
            "Minutes are approved once the meeting has been recorded as held"
            if meeting.state != S.MINUTES_APPROVED
            else "The minutes have already been approved"
        )
    missing = [str(i.order) for i in meeting.items.all() if not i.minutes.strip()]
    if missing:
        raise DomainError(
            f"Write the minutes for item{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            "before approving them"
        )
    meeting.state = S.MINUTES_APPROVED
    meeting.minutes_approved_at = timezone.now()
    meeting.minutes_approved_by = actor
    _save(meeting, actor)
    return meeting


@transaction.atomic
def minutes_amend(
    *, actor: User, meeting: Meeting, text: str, item: AgendaItem | None = None
) -> MinutesAmendment:
    """Correct approved minutes: the approved text stays; the correction is added beside it."""
    _require_runner(actor, meeting.forum)
    if meeting.state != S.MINUTES_APPROVED:
        raise InvalidTransition("The minutes are still open: edit them directly")
    if item is not None and item.meeting_id != meeting.pk:
        raise DomainError("Choose an item of this meeting", field="item")
    text = _text(text, field="text", message="Write the correction")
    return MinutesAmendment.objects.create(meeting=meeting, item=item, text=text, made_by=actor)


# --- actions ------------------------------------------------------------------


@transaction.atomic
def action_add(
    *,
    actor: User,
    meeting: Meeting,
    description: str,
    owner_agency: Agency,
    owner: User,
    due_on: datetime.date,
    item: AgendaItem | None = None,
    system_issue: SystemIssue | None = None,
) -> Action:
    _require_runner(actor, meeting.forum)
    _check_minutes_open(meeting)
    description = _text(description, field="description", message="Say what will be done")
    if owner.agency_id != owner_agency.pk or not owner.is_active:
        raise DomainError(f"Choose a person who works for {owner_agency}", field="owner")
    if due_on < _local_date(meeting.starts_at):
        raise DomainError("The due date must be on or after the meeting", field="due_on")
    if due_on > _local_date(meeting.starts_at) + datetime.timedelta(days=366):
        raise DomainError("Set a due date within a year of the meeting", field="due_on")
    if item is not None and item.meeting_id != meeting.pk:
        raise DomainError("Choose an item of this meeting", field="item")
    action = Action(
        forum=meeting.forum,
        meeting=meeting,
        item=item,
        case=item.case if item is not None else None,
        system_issue=system_issue or (item.system_issue if item is not None else None),
        description=description,
        owner_agency=owner_agency,
        owner=owner,
        due_on=due_on,
    )
    _save(action, actor)
    if action.case is not None:
        access.case_activity_touch(case=action.case)
    if owner.pk != actor.pk:
        notification_send(
            user=owner,
            text=f"You own an action from the {meeting.forum}, due {due_on:%-d %B %Y}.",
            url=reverse("forums:action", args=[action.pk]),
            email_subject=f"New action from the {meeting.forum}",
        )
    return action


@transaction.atomic
def action_update(
    *,
    actor: User,
    action: Action,
    status: str,
    note: str,
    expected_version: int,
    due_on: datetime.date | None = None,
) -> Action:
    """An owner reports progress; done and dropped close it (dropped says why)."""
    if not can_update_action(actor, action):
        raise NotAllowed("Only the owning agency or the forum chair updates this action.")
    action = Action.objects.select_for_update(of=("self",)).get(pk=action.pk)
    if action.version != expected_version:
        raise ConcurrentEdit(
            "Someone else updated this action while you were editing. Check their update "
            "and try again"
        )
    status = _choice(Action.Status, status, field="status", message="Select the status")
    note = _text(note, field="note", message="Say what has happened since the last update")
    # A dropped action says why; reopened, it no longer carries the old reason.
    action.status_reason = note if status == Action.Status.DROPPED else ""
    if due_on is not None and due_on != action.due_on:
        if not can_run_forum(actor, action.forum):
            raise NotAllowed("Only the forum chair changes a due date.")
        action.due_on = due_on
    if status == Action.Status.DONE and action.status != Action.Status.DONE:
        action.completed_on = timezone.localdate()
    elif status != Action.Status.DONE:
        action.completed_on = None
    action.status = status
    action.last_update_note = note
    action.last_updated_at = timezone.now()
    action.version += 1
    _save(action, actor)
    return action


def _week_starting(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def overdue_digest_send(*, today: datetime.date | None = None) -> int:
    """Email each owner of overdue actions once a week. Returns how many emails went.

    Idempotent: a ``DigestSent`` row per person per week is written in the same
    transaction as the send; a second run in the same week sends nothing. The
    email names no person, only how many actions and where to see them.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    today = today or timezone.localdate()
    week = _week_starting(today)
    overdue = Action.objects.filter(status__in=Action.OPEN_STATES, due_on__lt=today)
    owners = (
        User.objects.filter(pk__in=overdue.values("owner_id"), is_active=True)
        .exclude(email="")
        .exclude(pk__in=DigestSent.objects.filter(week_starting=week).values("user_id"))
    )
    sent = 0
    for owner in owners:
        count = overdue.filter(owner=owner).count()
        try:
            with transaction.atomic():
                DigestSent.objects.create(user=owner, week_starting=week, actions=count)
                link = (
                    f"{settings.CSF_BASE_URL}{reverse('forums:actions')}?mine=1"
                    if settings.CSF_BASE_URL
                    else "Sign in to CSF Portal and open Actions."
                )
                send_mail(
                    f"CSF Portal: {count} overdue action{'s' if count != 1 else ''}",
                    f"You own {count} overdue action{'s' if count != 1 else ''} agreed at the "
                    f"Creative Solutions Forum or the System Optimisation Group.\n\n"
                    f"Please update them: {link}\n\n"
                    "This is an automatic weekly message. OFFICIAL-SENSITIVE.",
                    settings.DEFAULT_FROM_EMAIL,
                    [owner.email],
                )
        except IntegrityError:
            continue  # another run sent this person's digest first
        except Exception:
            logger.exception("Could not send an overdue-actions digest; it will be retried")
            continue
        sent += 1
    return sent


# --- system issues ------------------------------------------------------------


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
    if not can_work_system_issues(actor):
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
    if not can_work_system_issues(actor):
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


# --- standing membership (administration) -------------------------------------


# A standing member sees the cases on the forum's published agendas (meeting-window
# access, ``access.meeting_items_open_to``), so membership is case-bearing like a
# role: every change goes through these services, is a ``RoleChange`` the chairs see
# (``/role-changes/``) and, when it opens case data, is told to the chairs.


def membership_check(
    *,
    actor: User,
    user: User,
    membership: ForumMembership | None = None,
    joined_on: datetime.date | None = None,
    left_on: datetime.date | None = None,
) -> None:
    """Raise if ``actor`` may not add (``membership`` None) or change this membership.

    The admin form asks this first to show the refusal on the field; the services
    ask again inside their transaction.
    """
    is_admin = access.has_role(actor, Role.ADMINISTRATOR)
    if not (is_admin or access.has_role(actor, Role.FORUM_CHAIR)):
        raise NotAllowed("Forum chairs and administrators manage standing membership.")
    if is_admin and actor.pk == user.pk:
        # Separation of duties: an administrator never gives themselves case access.
        raise NotAllowed(
            "You cannot add or change your own standing membership. Ask a forum chair.",
            field="user",
        )
    if membership is None and user.agency_id is None:
        raise DomainError("A standing member works for a member agency", field="user")
    if membership is not None and membership.left_on is not None:
        raise DomainError(
            "This membership has ended and is kept as a record: add a new one instead",
            field="left_on",
        )
    if left_on is not None:
        if left_on > timezone.localdate():
            raise DomainError("The date they left must be today or in the past", field="left_on")
        started = joined_on or (membership.joined_on if membership else None)
        if started is not None and left_on < started:
            raise DomainError(
                "The date they left must be the same as or after the date they joined",
                field="left_on",
            )


def _membership_detail(membership: ForumMembership) -> str:
    return f"{membership.forum} ({membership.get_role_display().lower()})"


@transaction.atomic
def membership_add(
    *,
    actor: User,
    forum: Forum,
    user: User,
    role: str = ForumMembership.Role.MEMBER,
    joined_on: datetime.date | None = None,
) -> ForumMembership:
    """A standing member of ``forum``, for their agency; the current one if there is one."""
    # Imported here: the module's imports are left to the other work in this file.
    from csf_portal.models import RoleChange
    from csf_portal.services import role_change_record

    membership_check(actor=actor, user=user)
    existing = ForumMembership.objects.filter(forum=forum, user=user, left_on__isnull=True).first()
    if existing is not None:
        return existing
    agency_id = user.agency_id
    assert agency_id is not None  # membership_check refuses a user with no agency
    membership = ForumMembership(
        forum=forum, user=user, agency_id=agency_id, role=ForumMembership.Role(role)
    )
    if joined_on is not None:
        membership.joined_on = joined_on
    _save(membership, actor)
    role_change_record(
        actor=actor,
        user=user,
        kind=RoleChange.Kind.FORUM_MEMBERSHIP_ADDED,
        detail=_membership_detail(membership),
        case_bearing=True,
    )
    return membership


@transaction.atomic
def membership_update(
    *,
    actor: User,
    membership: ForumMembership,
    role: str,
    joined_on: datetime.date,
    left_on: datetime.date | None,
) -> ForumMembership:
    """Change a current membership's seat or dates, or end it (``left_on``). Never deleted."""
    from csf_portal.models import RoleChange
    from csf_portal.services import role_change_record

    stored = (
        ForumMembership.objects.select_for_update(of=("self",))
        .select_related("forum", "user")
        .get(pk=membership.pk)
    )
    role = _choice(ForumMembership.Role, role, field="role", message="Choose chair or member")
    membership_check(
        actor=actor, user=stored.user, membership=stored, joined_on=joined_on, left_on=left_on
    )
    if (stored.role, stored.joined_on, stored.left_on) == (role, joined_on, left_on):
        return stored
    before = _membership_detail(stored)
    role_changed = stored.role != role
    stored.role, stored.joined_on, stored.left_on = role, joined_on, left_on
    _save(stored, actor, update_fields=["role", "joined_on", "left_on", "updated_at"])
    if left_on is not None:
        role_change_record(
            actor=actor,
            user=stored.user,
            kind=RoleChange.Kind.FORUM_MEMBERSHIP_ENDED,
            detail=f"{_membership_detail(stored)}, left on {left_on.day} {left_on:%B %Y}",
            case_bearing=False,
        )
    elif role_changed:
        role_change_record(
            actor=actor,
            user=stored.user,
            kind=RoleChange.Kind.FORUM_MEMBERSHIP_CHANGED,
            detail=f"{before} to {_membership_detail(stored)}",
            # The chair's seat lets them run the forum's meetings (``can_run_forum``).
            case_bearing=role == ForumMembership.Role.CHAIR,
        )
    return stored
