"""Reads that are not about one person: system health, the log of role changes."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


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
