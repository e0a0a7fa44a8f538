"""The suite's guard: every history row the portal writes names who made the change (issue 19).

A receiver of simple-history's ``pre_create_historical_record`` signal, connected by
tests/conftest.py for the whole test process (each pytest-xdist worker is one), so
every test in ``make test`` runs under it: views through the test client, services,
admin, management commands and Celery tasks run eagerly in this process. A row with
no ``history_user`` written outside ``csf_portal.history.unattributed(reason)`` raises
:class:`UnattributedHistory` at the write, and is also kept so the test fails at
teardown even where the code under test catches the exception.

What it cannot see: rows written by another process (the real Celery worker of
tests/integration runs the portal's production settings, without this receiver), and
rows written without the signal: simple-history's ``bulk_create_with_history``/
``bulk_update_with_history`` and ``bulk_history_create`` send no
``pre_create_historical_record`` (tests/test_write_paths.py lists where they may be
used; today nowhere in the apps).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from csf_portal.history import unattributed_reason

DISPATCH_UID = "tests.history_guard.history_user_required"
ROOT = Path(__file__).resolve().parent.parent


class UnattributedHistory(AssertionError):
    """A history row with no user, written outside an ``unattributed`` block."""


#: Rows the guard refused since the current test began (read and emptied by conftest).
refused: list[str] = []


def history_user_required(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """Refuse a history row that names no user, unless an exemption says why."""
    if getattr(history_instance, "history_user_id", None) is not None:
        return
    if unattributed_reason() is not None:
        return
    instance = kwargs.get("instance")
    what = (
        f"{sender._meta.label} ({history_instance.history_type}) of "
        f"{type(instance).__name__} pk={getattr(instance, 'pk', None)!r} has no history_user: "
        "the service must name its actor (acting_as(actor)), or the write must be inside "
        "csf_portal.history.unattributed(reason) when no one acts"
    )
    what += f" (written at {_where()})"
    refused.append(what)
    raise UnattributedHistory(what)


def _where() -> str:
    """The innermost line of the portal's own code (or the tests') that made the write."""
    here = Path(__file__).resolve()
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = Path(frame.filename).resolve()
        if path == here or ".venv" in path.parts or not path.is_relative_to(ROOT):
            continue
        return f"{path.relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    return "outside the portal's code"


def connect() -> None:
    from simple_history.signals import pre_create_historical_record

    pre_create_historical_record.connect(
        history_user_required, weak=False, dispatch_uid=DISPATCH_UID
    )


def connected() -> bool:
    from simple_history.signals import pre_create_historical_record

    return any(key[0] == DISPATCH_UID for key, *_ in pre_create_historical_record.receivers)
