"""The suite's guard: consent records and sharing bases are written only through
``access.sharing_write``, which recomputes who can see the person in the same transaction.

Connected by tests/conftest.py for the whole test process, like tests/history_guard.py: a
save of either model, or a change to its agencies, anywhere else raises
:class:`VisibilityNotKept` at the write and fails the test at teardown even where the code
under test catches it. Writes that send no signal (``QuerySet.update``, ``bulk_create``)
are not seen: tests/test_write_paths.py keeps those out of the apps.
"""

from __future__ import annotations

from typing import Any

DISPATCH_UID = "tests.visibility_guard.sharing_written_through_access"


class VisibilityNotKept(AssertionError):
    """Consent or a sharing basis written without recomputing who can see the person."""


#: Writes the guard refused since the current test began (read and emptied by conftest).
refused: list[str] = []


def _refuse(sender: Any, instance: Any) -> None:
    import access

    if access.sharing_write_open():
        return
    what = (
        f"{sender._meta.label} pk={getattr(instance, 'pk', None)!r} written outside "
        f"access.sharing_write, so the person's list rows were not recomputed "
        f"(written at {_where()})"
    )
    refused.append(what)
    raise VisibilityNotKept(what)


def _where() -> str:
    """The innermost line of the portal's code (or the tests') that made the write."""
    import traceback
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    here = Path(__file__).resolve()
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = Path(frame.filename).resolve()
        if path == here or ".venv" in path.parts or not path.is_relative_to(root):
            continue
        return f"{path.relative_to(root)}:{frame.lineno} in {frame.name}"
    return "outside the portal's code"


def _saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures loaded with loaddata are not the portal writing
        _refuse(sender, instance)


def _agencies_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        _refuse(type(instance), instance)


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from consent.models import ConsentRecord, SharingBasis

    for model in (ConsentRecord, SharingBasis):
        uid = f"{DISPATCH_UID}.{model._meta.label}"
        post_save.connect(_saved, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(_saved, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
        m2m_changed.connect(
            _agencies_changed,
            sender=model.agencies.through,
            weak=False,
            dispatch_uid=f"{uid}.agencies",
        )


def connected() -> bool:
    from django.db.models.signals import post_save

    return any(str(key[0]).startswith(DISPATCH_UID) for key, *_ in post_save.receivers)
