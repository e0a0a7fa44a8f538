"""Benchmark the meeting pack: build and render the largest agenda's pack in a warm process.

Reports wall time, pages, pages per second and the render's peak memory; writes
``bench/pdf.json``. Run on demo data: ``make bench-pdf``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.benchmark import NoMeetingWithCases, measure_meeting_pack


class Command(BaseCommand):
    help = "Time a meeting pack of the agenda with the most cases (demo data)"

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "bench" / "pdf.json"))

    def handle(self, *args, runs: int, output: str, **options):
        try:
            result = measure_meeting_pack(runs=runs)
        except NoMeetingWithCases as exc:
            raise CommandError(str(exc)) from exc
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(
            f"Meeting pack, {result['cases']} cases: {result['pages']} pages in "
            f"{result['total_seconds']} s (HTML {result['build_seconds']} s, PDF "
            f"{result['render_seconds']} s, {result['pages_per_second']} pages/s), "
            f"render peak memory {result['render_peak_rss_mb']} MB. Written to {output}."
        )
