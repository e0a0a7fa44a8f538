"""What the forum use cases share: limits, text checks, saving as the actor, who runs a
meeting (``access.can_run_forum``), and telling a meeting's people."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone

import access
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Agency, Role, User
from csf_portal.notifications import notification_send
from forums.models import (
    Forum,
    ForumMembership,
    Meeting,
)

logger = logging.getLogger("forums.services")

MAX_TEXT = 10_000
DEFAULT_MEETING_LENGTH = datetime.timedelta(hours=2)
S = Meeting.State


def _require_runner(actor: User, forum: Forum) -> None:
    if not access.can_run_forum(actor, forum):
        raise NotAllowed(f"Only the chair of the {forum} does this.")


def _text(value: str, *, field: str, message: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(message, field=field)
    if len(value) > MAX_TEXT:
        raise DomainError(f"Use {MAX_TEXT:,} characters or fewer", field=field)
    return value


def _choice[C: models.TextChoices](choices: type[C], value: str, *, field: str, message: str) -> C:
    try:
        return choices(value)
    except ValueError:
        raise DomainError(message, field=field) from None


def _save(obj: models.Model, actor: User, **kwargs: Any) -> None:
    with acting_as(actor):
        obj.save(**kwargs)


def _local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _end_of_day(moment: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=23, minute=59, second=59, microsecond=0)


def _meeting_url(meeting: Meeting) -> str:
    return reverse("forums:meeting", args=[meeting.pk])


def _state_now(meeting: Meeting) -> str:
    """The meeting's committed state, read under a row lock: the caller's copy may be stale."""
    return Meeting.objects.select_for_update().values_list("state", flat=True).get(pk=meeting.pk)


def meeting_people(meeting: Meeting) -> list[User]:
    """Standing members, presenters and the users of invited agencies."""
    people: dict[int, User] = {}
    for m in ForumMembership.objects.filter(
        ForumMembership.sitting(timezone.localdate()), forum=meeting.forum, user__is_active=True
    ).select_related("user"):
        people[m.user.pk] = m.user
    invited = Agency.objects.filter(invitations__item__meeting=meeting)
    for user in _agency_practitioners(invited):
        people.setdefault(user.pk, user)
    for item in meeting.items.select_related("presenter"):
        if item.presenter is not None:
            people.setdefault(item.presenter.pk, item.presenter)
    return list(people.values())


def _agency_practitioners(agencies: Iterable[Agency]) -> list[User]:
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


def _check_minutes_open(meeting: Meeting) -> None:
    if _state_now(meeting) == S.MINUTES_APPROVED:
        raise InvalidTransition(
            "The minutes have been approved and are read-only: record an amendment instead"
        )
    if not meeting.has_started:
        raise DomainError("This is recorded once the meeting has started")
