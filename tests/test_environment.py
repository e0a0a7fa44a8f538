"""Pytest plugin (loaded with ``-p``, before Django starts): test-only settings.

The suite runs the production settings module. Only what a test run must have
is given a default here; ``DATABASE_URL`` and ``REDIS_URL`` come from the
caller (SQLite and in-process tasks when absent, as for a newcomer).

``CSF_TEST_CLOCK`` (an ISO date and time, UK local time unless it names an
offset) starts the whole run at that moment, with the clock ticking on from
there: ``CSF_TEST_CLOCK=2027-01-31T23:30 make test``. CI runs the date-sensitive
suites (marked ``dates``) so at the calendar's edges (``tests/clock_edges.py``).
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import zoneinfo

import pytest

os.environ.setdefault("SECRET_KEY", "test-only-key-not-used-anywhere-else-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The test client speaks plain HTTP; HTTPS redirection is tested on its own.
os.environ.setdefault("CSF_SSL_REDIRECT", "0")
os.environ.setdefault("CSF_LOG_LEVEL", "WARNING")
# Static files are collected once per run (per pytest-xdist worker), as in production
# (hashed names); each worker has its own media folder too.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
os.environ.setdefault(
    "CSF_STATIC_ROOT", os.path.join(tempfile.gettempdir(), f"csf-test-static-{os.getpid()}")
)
os.environ.setdefault("CSF_MEDIA_ROOT", tempfile.mkdtemp(prefix="csf-test-media-"))
if _worker:
    for _name in ("CSF_STATIC_ROOT", "CSF_MEDIA_ROOT"):
        os.environ[_name] = f"{os.environ[_name].rstrip(os.sep)}-{_worker}"
        os.makedirs(os.environ[_name], exist_ok=True)


def _worker_redis(url: str, worker: str) -> str:
    """Each pytest-xdist worker its own Redis database: tests clear the cache they use."""
    number = int(worker.removeprefix("gw") or 0)
    match = re.fullmatch(r"(redis://[^/]+)(?:/(\d+))?", url)
    if match is None:
        return url
    base = int(match.group(2) or 0)
    return f"{match.group(1)}/{base + 1 + number}"


if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _worker_redis(os.environ["REDIS_URL"], _worker)


def test_clock(value: str) -> datetime.datetime:
    """The moment ``CSF_TEST_CLOCK`` names, aware (UK time unless it gives an offset)."""
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo("Europe/London"))
    return moment


test_clock.__test__ = False  # type: ignore[attr-defined]


def _clock_for_this_process(value: str) -> str:
    """One moment, or a comma-separated list: pytest-xdist worker N takes the Nth.

    ``CSF_TEST_CLOCK=a,b,c pytest -n 3 --dist each`` runs every test at each moment,
    one worker a moment, each building what it needs once.
    """
    moments = [m.strip() for m in value.split(",") if m.strip()]
    if len(moments) <= 1 or not _worker:
        return moments[0] if moments else ""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers != len(moments):
        raise RuntimeError(
            f"CSF_TEST_CLOCK names {len(moments)} moments for {workers} workers: "
            "run one worker a moment (-n N --dist each)"
        )
    return moments[int(_worker.removeprefix("gw"))]


_clock = _clock_for_this_process(os.environ.get("CSF_TEST_CLOCK", ""))
if _clock:
    import time_machine

    _traveller = time_machine.travel(test_clock(_clock), tick=True)
    _traveller.start()


def pytest_report_header(config):
    if _clock:
        return f"clock: the run starts at {test_clock(_clock).isoformat()} (CSF_TEST_CLOCK)"
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Fail rather than silently spread an ``xdist_group`` over workers.

    ``--dist loadgroup`` keeps a group on one worker by renaming its tests'
    node ids; a pytest that ignores the rename (pytest-xdist#1386) would have
    every worker build the demo city again, and nothing else would notice.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup did not group {len(lost)} tests (first: {lost[0]}): "
            "this pytest and pytest-xdist do not work together; see pyproject.toml"
        )
