"""Benchmark the meeting pack: build and render the largest agenda's pack in a warm process.

Reports wall time, pages, pages per second and the render's peak memory; writes
``bench/pdf.json``. Run on demo data: ``make bench-pdf``.
"""

from __future__ import annotations

import json
import platform
import resource
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q

from forums.models import Meeting
from reports.documents import meeting_pack_html
from reports.pdf import render_pdf


class Command(BaseCommand):
    help = "Time a meeting pack of the agenda with the most cases (demo data)"

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "bench" / "pdf.json"))

    def handle(self, *args, runs: int, output: str, **options):
        meeting = (
            Meeting.objects.annotate(cases=Count("items", filter=Q(items__case__isnull=False)))
            .filter(cases__gt=0)
            .select_related("forum", "chair")
            .order_by("-cases", "-starts_at")
            .first()
        )
        if meeting is None or meeting.chair is None:
            raise CommandError("No meeting with cases on its agenda: run seed_demo first")
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
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result = {
            "meeting": str(meeting),
            "cases": meeting.cases,
            "pages": best["pages"],
            "total_seconds": round(best["total_seconds"], 2),
            "build_seconds": round(best["build_seconds"], 2),
            "render_seconds": round(best["render_seconds"], 2),
            "pages_per_second": round(best["pages"] / best["render_seconds"], 1),
            "render_peak_rss_mb": round(peak_mb),
            "runs": runs,
            "machine": f"{platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()}, {platform.system()}",
        }
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(
            f"Meeting pack, {result['cases']} cases: {result['pages']} pages in "
            f"{result['total_seconds']} s (HTML {result['build_seconds']} s, PDF "
            f"{result['render_seconds']} s, {result['pages_per_second']} pages/s), "
            f"render peak memory {result['render_peak_rss_mb']} MB. Written to {output}."
        )
