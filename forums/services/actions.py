"""Actions agreed at meetings, their progress, and the weekly overdue digest."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import access
from csf_portal.errors import ConcurrentEdit, DomainError, NotAllowed
from csf_portal.models import Agency, User
from csf_portal.notifications import notification_send
from forums.models import (
    Action,
    AgendaItem,
    DigestSent,
    Meeting,
    SystemIssue,
)
from forums.services._common import (
    _check_minutes_open,
    _choice,
    _local_date,
    _require_runner,
    _save,
    _text,
    logger,
)


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
    if item is not None and not access.can_own_action(owner, item):
        # The form offers only these people; the rule holds on every other path too.
        raise DomainError(
            "Choose someone from an agency involved in the case or invited to this item",
            field="owner",
        )
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
    if not access.can_update_action(actor, action):
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
        if not access.can_run_forum(actor, action.forum):
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
