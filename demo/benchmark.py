"""Measure the meeting pack: build and render the largest agenda's pack in a warm process.

Used by ``manage.py bench_pdf`` (``make bench-pdf``) and by the page benchmark
(``manage.py bench``, ``make bench``).
"""

from __future__ import annotations

import platform
import resource
import time
from typing import Any

from django.db.models import Count, Q

from forums.models import Meeting
from reports.documents import meeting_pack_html
from reports.pdf import render_pdf


class NoMeetingWithCases(Exception):
    pass


def machine() -> str:
    return (
        f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}"
    )


def measure_meeting_pack(*, runs: int = 3) -> dict[str, Any]:
    """Best of ``runs`` for the meeting with the most cases on its agenda (latest first)."""
    meeting = (
        Meeting.objects.annotate(cases=Count("items", filter=Q(items__case__isnull=False)))
        .filter(cases__gt=0, chair__isnull=False)
        .select_related("forum", "chair")
        .order_by("-cases", "-starts_at")
        .first()
    )
    if meeting is None or meeting.chair is None:
        raise NoMeetingWithCases("No meeting with cases on its agenda: run seed_demo first")
    recipient = meeting.chair
    render_pdf("<p>warm up</p>")  # imports, fonts and the stylesheet are warm from here on
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        html = meeting_pack_html(meeting=meeting, recipient=recipient)
        built = time.perf_counter()
        rendered = render_pdf(html)
        timings.append(
            {
                "build_seconds": built - started,
                "render_seconds": rendered.seconds,
                "total_seconds": time.perf_counter() - started,
                "pages": rendered.pages,
            }
        )
    best = min(timings, key=lambda t: t["total_seconds"])
    # Each render runs in a forked child (reports.pdf): the largest child is the peak.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "meeting": str(meeting),
        "cases": meeting.cases,
        "pages": best["pages"],
        "total_seconds": round(best["total_seconds"], 2),
        "build_seconds": round(best["build_seconds"], 2),
        "render_seconds": round(best["render_seconds"], 2),
        "pages_per_second": round(best["pages"] / best["render_seconds"], 1),
        "render_peak_rss_mb": round(peak_mb),
        "runs": runs,
        "machine": machine(),
    }
