"""Reads that are not about one person: system health, the log of role changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from csf_portal.models import RoleChange, User


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach the database is "unavailable"
        return "unavailable"
    return "ok"


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "not configured (tasks run in-process)"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError:
        return "unavailable"
    return "ok"


def system_health() -> dict[str, str]:
    database = _database_status()
    broker = _broker_status()
    if database != "ok":
        status = "unavailable"
    elif broker == "unavailable":
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "database": database, "broker": broker}


# --- role and agency changes (the chairs' separation-of-duties log) -----------


def role_changes_visible_to(*, user: Any, staff_id: int | None = None) -> QuerySet[RoleChange]:
    """Changes to who may see what, newest first; nothing for anyone but a forum chair.

    ``staff_id``: only the changes to that account's access.
    """
    from access import can_view_role_changes

    if not can_view_role_changes(user):
        return RoleChange.objects.none()
    changes = RoleChange.objects.select_related(
        "user__agency", "actor", "agency_before", "agency_after"
    ).order_by("-at", "-id")
    if staff_id is not None:
        changes = changes.filter(user_id=staff_id)
    return changes


def role_change_staff(*, user: Any, staff_id: int | None) -> User | None:
    """The member of staff a chair filtered the log by, if there is one."""
    from access import can_view_role_changes

    if staff_id is None or not can_view_role_changes(user):
        return None
    return User.objects.select_related("agency").filter(pk=staff_id).first()
