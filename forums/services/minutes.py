"""Minutes: each item's, their approval and the amendments made after it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

import access
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition
from csf_portal.models import User
from forums.models import (
    AgendaItem,
    Meeting,
    MinutesAmendment,
)
from forums.services._common import S, _check_minutes_open, _require_runner, _save, _text


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
