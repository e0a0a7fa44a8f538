"""Planning meetings: one, a monthly series, rescheduling, and marking one held."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition
from csf_portal.models import User
from forums.models import (
    Forum,
    Meeting,
)
from forums.services._common import (
    DEFAULT_MEETING_LENGTH,
    S,
    _end_of_day,
    _local_date,
    _notify_people,
    _require_runner,
    _save,
    meeting_people,
)


def _check_meeting_fields(
    *,
    forum: Forum,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None,
    location: str,
    online_link: str,
    exclude: Meeting | None = None,
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
    expected_version: int | None = None,
) -> Meeting:
    """Move a meeting or change where it is, against the details the chair read
    (``expected_version``): a second chair's change in between is refused, never lost."""
    _require_runner(actor, meeting.forum)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state not in (S.PLANNED, S.AGENDA_PUBLISHED):
        raise InvalidTransition("A meeting that has been held cannot be moved")
    if expected_version is not None and expected_version != meeting.details_version:
        when = timezone.localtime(meeting.starts_at)
        raise ConcurrentEdit(
            "Someone else changed this meeting while you were editing: it is now "
            f"{when:%-d %B %Y at %H:%M}, {meeting.location or 'online'}. "
            "Your changes are below; save again to replace theirs"
        )
    meeting.details_version += 1
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
