"""Who attended a meeting, for the whole meeting or one item."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from csf_portal.errors import DomainError
from csf_portal.history import acting_as
from csf_portal.models import User
from forums.models import (
    AgendaItem,
    Attendance,
    Meeting,
)
from forums.services._common import _check_minutes_open, _require_runner, _save, meeting_people


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
