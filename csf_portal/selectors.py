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


def _cache_status() -> str:
    from django.core.cache import caches

    from csf_portal.cache import ResilientRedisCache

    cache = caches["default"]
    if not isinstance(cache, ResilientRedisCache):
        return "not configured (in-process cache)"
    return (
        "ok" if cache.is_reachable() else "unavailable (reads and writes fall back to the database)"
    )


def _sessions_status(database: str) -> str:
    """Sessions are kept in the database (a cache in front may fail without failing them)."""
    engine = settings.SESSION_ENGINE.rsplit(".", 1)[-1]
    if engine not in {"db", "cached_db"}:
        return f"unexpected engine {settings.SESSION_ENGINE}"
    return "ok" if database == "ok" else "unavailable"


def system_health() -> dict[str, str]:
    """Each part's state, and the whole: "unavailable" when signed-in pages cannot be
    served (the database, which holds sessions); "degraded" when they can but slower or
    with documents delayed (cache or broker down); else "ok"."""
    database = _database_status()
    sessions = _sessions_status(database)
    cache = _cache_status()
    broker = _broker_status()
    if database != "ok" or sessions != "ok":
        status = "unavailable"
    elif broker == "unavailable" or cache.startswith("unavailable"):
        status = "degraded"
    else:
        status = "ok"
    return {
        "status": status,
        "database": database,
        "sessions": sessions,
        "cache": cache,
        "broker": broker,
    }


def account_sign_in_backoff(username: str) -> int:
    """Seconds this username must wait before another password is tried, from any address.

    From the limit on, each further failure (within the window of the last one) doubles a
    short wait (1, 2, 4 … minutes, capped) after the latest failure; never a long lockout.
    Unknown usernames are counted the same way, so the answer says nothing about whether
    an account exists.
    """
    from django.utils import timezone

    from csf_portal.models import AccountSignInFailures

    if not username:
        return 0
    record = AccountSignInFailures.objects.filter(username=username.lower()).first()
    now = timezone.now()
    limit = settings.CSF_ACCOUNT_FAILURE_LIMIT
    if record is None or record.failures < limit:
        return 0
    if now - record.last_failure_at > settings.CSF_ACCOUNT_FAILURE_WINDOW:
        return 0
    step = min(record.failures - limit, 10)
    wait = min(60 * 2**step, settings.CSF_ACCOUNT_BACKOFF_CAP_SECONDS)
    remaining = (record.last_failure_at - now).total_seconds() + wait
    return max(0, int(remaining + 0.999))


def recovery_codes_remaining(user_id: int) -> int:
    """How many unused recovery codes the user has."""
    from django_otp.plugins.otp_static.models import StaticToken

    return int(StaticToken.objects.filter(device__user_id=user_id, device__confirmed=True).count())
