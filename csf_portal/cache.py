"""Redis as an optimisation, never a dependency of a request.

:class:`ResilientRedisCache` is Django's Redis cache whose every call, when Redis cannot be
reached or answers too slowly, behaves as a miss (reads return the default, writes and
deletes do nothing) and logs a warning at most once a minute. Callers already treat the
cache as a miss-able copy: sessions (``cached_db``) read and write the database, the
cached roles and users (``csf_portal.authz``) read the database, so people keep signing
in and working while Redis is down, a little slower.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_WARN_EVERY = 60.0
_last_warning = 0.0


def _warn(operation: str, exc: BaseException) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY:
        _last_warning = now
        logger.warning("Cache unreachable (%s: %s); serving from the database", operation, exc)


def _miss(operation: str, default: Any = None) -> Any:
    def call(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(RedisCache, operation)(self, *args, **kwargs)
        except UNREACHABLE as exc:
            _warn(operation, exc)
            return default() if callable(default) else default

    call.__name__ = operation
    return call


class ResilientRedisCache(RedisCache):
    """A Redis cache that is a miss, not an error, while Redis is down."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            _warn("get", exc)
            return default

    get_many = _miss("get_many", dict)
    has_key = _miss("has_key", False)
    add = _miss("add", False)
    set = _miss("set")
    set_many = _miss("set_many", list)
    touch = _miss("touch", False)
    delete = _miss("delete", False)
    delete_many = _miss("delete_many")
    clear = _miss("clear", False)
    incr = _miss("incr", 0)

    def is_reachable(self) -> bool:
        """Whether Redis answers now (for the health check)."""
        try:
            return bool(self._cache.get_client(write=False).ping())
        except UNREACHABLE:
            return False
