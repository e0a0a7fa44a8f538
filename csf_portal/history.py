"""Who made a change: every history row written inside ``acting_as(actor)`` names the actor.

django-simple-history finds the acting user on the instance (``_history_user``) or
else on the request its ``HistoryRequestMiddleware`` keeps in
``HistoricalRecords.context`` (simple-history 3.13: ``get_history_user`` reads
``context.request.user`` when it is authenticated, and the default ``get_user``
returns it). ``acting_as`` puts a stand-in request carrying the actor there for the
block, and puts back whatever was there before (the real request, inside a web
request), so nested and sequential uses, and Celery tasks with no request at all,
attribute every save, create, delete and many-to-many change in the block without
the caller setting anything on each object. (An ``_history_user`` set on the
instance still wins, even when it is None.)

A service wraps its writes: ``with acting_as(actor): obj.save()``. A job no person
does (the nightly consent and sharing-basis reminders) acts as the portal's own
account, ``csf_portal.system.system_actor()``.

Rows that are no one's act (demo and scale data, seed_demo, the test factories and
the reference rows the test suite puts back) are written inside
``unattributed(reason)``. The test suite connects a guard (tests/history_guard.py)
for every test: a history row with no user written outside ``unattributed`` fails
the test. The guard runs in the test process only: a real Celery worker (the one
tests/integration starts) runs without it, and simple-history's ``bulk_*_with_history``
helpers send no signal, so it cannot see their rows. Outside the tests nothing
refuses a row with no user; in production a request by an anonymous visitor or a
command run without ``acting_as`` would still write one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from simple_history.models import HistoricalRecords

_NOTHING = object()

#: The reasons of the ``unattributed`` blocks the current code runs in, innermost last.
_exemptions: ContextVar[tuple[str, ...]] = ContextVar("history_exemptions", default=())


class _ActingRequest:
    """What simple-history reads from the request it is given: the user."""

    def __init__(self, user: Any) -> None:
        self.user = user


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Attribute every history row written in the block to ``actor``."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ValueError("acting_as needs the user who acts")
    context = HistoricalRecords.context
    before = getattr(context, "request", _NOTHING)
    context.request = _ActingRequest(actor)
    try:
        yield
    finally:
        if before is _NOTHING:
            del context.request
        else:
            context.request = before


@contextmanager
def unattributed(reason: str) -> Iterator[None]:
    """History rows written in the block name no user, and that is intended: say why.

    For data builders whose rows are nobody's act (the demo and scale data, the
    reference rows the data migrations make, test factories). The test suite's guard
    (tests/history_guard.py) fails on any row with no user written outside such a block.
    Also usable as a decorator.
    """
    if not reason or not reason.strip():
        raise ValueError("unattributed needs the reason no user acts")
    token = _exemptions.set((*_exemptions.get(), reason))
    try:
        yield
    finally:
        _exemptions.reset(token)


def unattributed_reason() -> str | None:
    """Why history written here names no user (the innermost ``unattributed``), or None."""
    reasons = _exemptions.get()
    return reasons[-1] if reasons else None
