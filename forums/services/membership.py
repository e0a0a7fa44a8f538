"""Standing forum membership (administration)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

import access
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Role, User
from forums.models import (
    Forum,
    ForumMembership,
)
from forums.services._common import _choice, _save

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
    if not access.can_manage_standing_membership(actor):
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
