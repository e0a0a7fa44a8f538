"""The agenda: adding, changing, moving and removing items (need to know: only cases the
chair may bring, ``access.agenda_cases_for``), invitations, and publishing it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import access
from cases.models import Case
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition
from csf_portal.history import acting_as
from csf_portal.models import Agency, User
from forums.models import (
    AgendaItem,
    Invitation,
    Meeting,
    SystemIssue,
)
from forums.services._common import (
    S,
    _agency_practitioners,
    _end_of_day,
    _notify_people,
    _require_runner,
    _save,
    _state_now,
    _text,
    _when,
    meeting_people,
)


def _check_editable_agenda(meeting: Meeting) -> None:
    if _state_now(meeting) not in (S.PLANNED, S.AGENDA_PUBLISHED):
        raise InvalidTransition("The agenda cannot change once the meeting has been held")


def _check_presenter(presenter: User | None, case: Case | None, agencies: Iterable[Agency]) -> None:
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
    expected_version: int | None = None,
) -> AgendaItem:
    """Set an item's time, presenter and invited services, against the settings the chair
    read (``expected_version``): a second chair's change in between is refused, never lost."""
    meeting = item.meeting
    _require_runner(actor, meeting.forum)
    _check_editable_agenda(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if expected_version is not None and expected_version != item.settings_version:
        raise ConcurrentEdit(_settings_now(item))
    item.settings_version += 1
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


def _settings_now(item: AgendaItem) -> str:
    invited = ", ".join(i.agency.name for i in item.invitations.select_related("agency")) or "none"
    when = f"{item.starts_at:%H:%M}" if item.starts_at else "no time set"
    presenter = item.presenter.get_full_name() if item.presenter else "not chosen"
    return (
        "Someone else changed this item while you were editing. It now says: "
        f"{when}, {item.minutes_allowed} minutes, presenter {presenter}, invited: {invited}. "
        "Your changes are below; save again to replace theirs"
    )


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
