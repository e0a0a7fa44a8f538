"""The page benchmark behind ``make bench``.

Serves the portal with gunicorn on production settings (``DEBUG`` off, second
factor required, Redis sessions) plus one bare view, the baseline, and drives
each page with wrk from a separate process at a fixed concurrency. For each
page it reports requests per second, p50/p95 latency, SQL queries per request
and the ratio of its throughput to the baseline's in the same run; then the
meeting pack's render time and peak memory, the web workers' peak memory and
``EXPLAIN ANALYZE`` of the case list. Writes ``bench/results.json``.

Run it on a database built by ``seed_demo --scale N`` (``make bench`` does).
Every request must get a 200: a redirect to sign-in or an error fails the run
rather than passing as a fast page.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

import access
from csf_portal.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from csf_portal.models import User
from demo.benchmark import NoMeetingWithCases, machine, measure_meeting_pack

WRK_SCRIPT = Path(settings.BASE_DIR) / "bench" / "wrk.lua"
BACKEND = "csf_portal.authz.CachedPermissionsBackend"
# Targets from the performance issue (benchmark figures, not timed tests).
MIN_THROUGHPUT_RATIO = 0.25
MAX_P95_RATIO = 10
MAX_WORKER_RSS_MB = 250
MAX_PACK_SECONDS = 4


@dataclass
class Page:
    key: str
    title: str
    username: str | None
    path: str
    # A reference row: shows where a page's time goes, has no target of its own.
    reference: bool = False


def _pages() -> list[Page]:
    from forums.models import Forum, Meeting

    users = {u.username: u for u in User.objects.filter(username__in=BENCH_USERS)}
    missing = set(BENCH_USERS) - set(users)
    if missing:
        raise CommandError(
            f"Demo users {sorted(missing)} are missing: build the data with "
            "`manage.py seed_demo --scale N` first (make bench does)."
        )
    case = access.cases_visible_to(user=users["police"]).first()
    if case is None:
        raise CommandError("The police demo user can see no case: run seed_demo --scale N first")
    meeting = (
        Meeting.objects.filter(forum__kind=Forum.Kind.CSF, items__case__isnull=False)
        .filter(starts_at__gte=timezone.now() - datetime.timedelta(days=1))
        .order_by("starts_at")
        .first()
    ) or (
        Meeting.objects.filter(forum__kind=Forum.Kind.CSF, items__case__isnull=False)
        .order_by("-starts_at")
        .first()
    )
    if meeting is None:
        raise CommandError("No CSF meeting has cases on its agenda: run seed_demo --scale N first")
    return [
        Page("baseline", "Bare Django view (baseline)", None, "/bench/baseline"),
        Page(
            "signed_in",
            "Bare view behind sign-in (reference)",
            "police",
            "/bench/signed-in",
            reference=True,
        ),
        Page(
            "logged",
            "Bare view behind sign-in, logging one read (reference)",
            "police",
            "/bench/logged",
            reference=True,
        ),
        Page(
            "layout",
            "Empty page in the portal layout (reference)",
            "police",
            "/bench/layout",
            reference=True,
        ),
        Page("my_work", "My work, practitioner", "police", reverse("home")),
        Page("case_list", "Case list, practitioner", "police", reverse("cases:list")),
        Page(
            "case_page",
            "Case page, practitioner",
            "police",
            reverse("cases:detail", kwargs={"pk": case.pk}),
        ),
        Page("triage", "Triage queue, chair", "chair", reverse("referrals:triage")),
        Page(
            "agenda",
            "Meeting agenda, chair",
            "chair",
            reverse("forums:meeting", kwargs={"pk": meeting.pk}),
        ),
        Page("sog_actions", "SOG action log", "sog", reverse("forums:actions") + "?forum=sog"),
        Page("dashboard", "Outcomes dashboard, commissioner", "commissioner", "/reports/outcomes/"),
    ]


BENCH_USERS = ("police", "chair", "sog", "commissioner")


def _signed_in_session(user: User) -> str:
    """A session as sign-in with a verified second factor leaves it; returns its key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Benchmark", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = BACKEND
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SESSION_STARTED_KEY] = store[SESSION_RENEWED_KEY] = time.time()
    store.create()
    return str(store.session_key)


def _queries_per_request(page: Page, session_key: str | None) -> tuple[int, int]:
    """(status, SQL queries) for one request in this process, after one warm-up request."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    host = settings.ALLOWED_HOSTS[0]
    client.get(page.path, secure=True, headers={"host": host})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.path, secure=True, headers={"host": host})
    return response.status_code, len(queries)


def _worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def _rss_mb(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process, from /proc (Linux)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        return {}
    return {"rss_mb": round(out.get("VmRSS", 0), 1), "peak_rss_mb": round(out.get("VmHWM", 0), 1)}


def _explain_case_list(user: User) -> str:
    # The page's own query: 50 rows and the one that says whether a next page follows.
    from cases.selectors import case_list_visible_to

    queryset = case_list_visible_to(user=user)[:51]
    if connection.vendor == "postgresql":
        return queryset.explain(analyze=True, buffers=True)
    return queryset.explain()


def _dashboard_cold_seconds() -> float:
    """Working out the default dashboard's figures afresh (what the beat task does)."""
    from reports import dashboard, outcomes

    started = time.perf_counter()
    outcomes.tables_as_at(dashboard.Filters.default(), refresh=True)
    return round(time.perf_counter() - started, 2)


def _dataset() -> dict[str, int]:
    from cases.models import Case, CaseVisibility, Person, Risk
    from forums.models import Action, AgendaItem, Meeting
    from referrals.models import Referral

    models: dict[str, Any] = {
        "people": Person,
        "referrals": Referral,
        "cases": Case,
        "case_visibility_rows": CaseVisibility,
        "risks": Risk,
        "meetings": Meeting,
        "agenda_items": AgendaItem,
        "actions": Action,
        "users": User,
    }
    return {name: model.objects.count() for name, model in models.items()}


class Command(BaseCommand):
    help = "Benchmark the portal's main pages under gunicorn with wrk (see make bench)"

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=15, help="Seconds of load per page")
        parser.add_argument("--warmup", type=int, default=3, help="Warm-up seconds (0: none)")
        parser.add_argument("--connections", type=int, default=8, help="Concurrent connections")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--pack-runs", type=int, default=3, help="Meeting pack renders (0: skip)"
        )
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "bench" / "results.json")
        )
        parser.add_argument("--only", default="", help="Comma-separated page keys to run")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError("Benchmark with DEBUG off (production settings): make bench does")
        if settings.ROOT_URLCONF != "demo.bench_urls":
            raise CommandError("Run with DJANGO_SETTINGS_MODULE=demo.settings_bench")
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("make bench needs wrk, the load generator: apt-get install wrk")
        # As a deployment does: the production static storage serves hashed names.
        call_command("collectstatic", interactive=False, verbosity=0)
        pages = _pages()
        if options["only"]:
            wanted = {"baseline", *options["only"].split(",")}
            pages = [p for p in pages if p.key in wanted]
        connections = options["connections"]
        sessions: dict[str, list[str]] = {}
        for username in {p.username for p in pages if p.username}:
            user = User.objects.get(username=username)
            # One session per connection, as separate people would have: each is
            # renewed once a CSF_SESSION_RENEW_SECONDS, as in production.
            sessions[username] = [_signed_in_session(user) for _ in range(connections)]

        results: dict[str, Any] = {
            "when": timezone.now().isoformat(timespec="seconds"),
            "machine": f"{machine()}, {os.cpu_count()} cores",
            "database": connection.vendor,
            "dataset": _dataset(),
            "load": {
                "tool": "wrk",
                "connections": connections,
                "threads": 1,
                "duration_seconds": options["duration"],
                "gunicorn_workers": options["workers"],
            },
            "pages": {},
        }
        for page in pages:
            status, queries = _queries_per_request(
                page, sessions[page.username][0] if page.username else None
            )
            if status != 200:
                raise CommandError(f"{page.path} answered {status}, not 200, in process")
            results["pages"][page.key] = {
                "title": page.title,
                "path": page.path,
                "queries": queries,
                "reference": page.reference or page.key == "baseline",
            }

        server = self._serve(options)
        try:
            base = f"http://127.0.0.1:{options['port']}"
            for page in pages:
                cookies = [
                    f"{settings.SESSION_COOKIE_NAME}={key}"
                    for key in sessions.get(page.username or "", [])
                ]
                if options["warmup"]:
                    self._load(wrk, base, page, cookies, options["warmup"], connections)
                measured = self._load(wrk, base, page, cookies, options["duration"], connections)
                if measured["not_200"] or measured["socket_errors"]:
                    raise CommandError(
                        f"{page.path}: {measured['not_200']} responses were not 200 "
                        f"(last {measured['last_not_200_status']}), "
                        f"{measured['socket_errors']} socket errors"
                    )
                results["pages"][page.key].update(measured)
                self.stdout.write(f"  {page.title}: {measured['rps']} requests/s")
            results["workers"] = [_rss_mb(pid) for pid in _worker_pids(server.pid)]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

        baseline = results["pages"]["baseline"]
        for row in results["pages"].values():
            row["throughput_ratio"] = round(row["rps"] / baseline["rps"], 3)
            row["p95_ratio"] = round(row["p95_ms"] / baseline["p95_ms"], 2)
            row["meets_targets"] = (
                None
                if row["reference"]
                else (
                    row["throughput_ratio"] >= MIN_THROUGHPUT_RATIO
                    and row["p95_ratio"] < MAX_P95_RATIO
                )
            )
        results["case_list_explain"] = _explain_case_list(User.objects.get(username="police"))
        results["dashboard_cold_seconds"] = _dashboard_cold_seconds()
        if options["pack_runs"]:
            try:
                results["meeting_pack"] = measure_meeting_pack(runs=options["pack_runs"])
            except NoMeetingWithCases as exc:
                raise CommandError(str(exc)) from exc
        results["targets"] = {
            "min_throughput_ratio": MIN_THROUGHPUT_RATIO,
            "max_p95_ratio": MAX_P95_RATIO,
            "max_worker_rss_mb": MAX_WORKER_RSS_MB,
            "max_pack_seconds": MAX_PACK_SECONDS,
        }
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n")
        self.stdout.write(render_table(results))
        self.stdout.write(f"Written to {output}.")

    def _serve(self, options: dict[str, Any]) -> subprocess.Popen:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        log = Path(options["output"]).with_name("gunicorn.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo.settings_bench"}
        server = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
            [
                gunicorn,
                "csf_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{options['port']}",
                "--workers",
                str(options["workers"]),
                "--backlog",
                "256",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        url = f"http://127.0.0.1:{options['port']}/bench/baseline"
        while True:
            if server.poll() is not None:
                raise CommandError(f"gunicorn stopped at start: see {log}")
            try:
                request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310  (loopback)
                    if response.status == 200:
                        return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                server.kill()
                raise CommandError(f"gunicorn did not answer within 60 s: see {log}")
            time.sleep(0.3)

    def _load(
        self, wrk: str, base: str, page: Page, cookies: list[str], seconds: int, connections: int
    ) -> dict[str, Any]:
        completed = subprocess.run(  # noqa: S603  (wrk, fixed arguments)
            [
                wrk,
                "--threads",
                "1",
                "--connections",
                str(connections),
                "--duration",
                f"{seconds}s",
                "--timeout",
                "30s",
                "--script",
                str(WRK_SCRIPT),
                base + page.path,
                "--",
                page.path,
                *cookies,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
        found = re.search(r"^BENCH_JSON (\{.*\})$", completed.stdout, re.MULTILINE)
        if completed.returncode != 0 or not found:
            raise CommandError(f"wrk failed on {page.path}: {completed.stdout}{completed.stderr}")
        measured = json.loads(found.group(1))
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in measured.items()}


def _verdict(meets: bool | None) -> str:
    return "—" if meets is None else "met" if meets else "MISSED"


def render_table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (the README's performance section uses it)."""
    lines = [
        f"Machine: {results['machine']}; database: {results['database']}; "
        f"{results['dataset']['people']:,} people, {results['dataset']['referrals']:,} "
        f"referrals, {results['dataset']['cases']:,} cases; wrk, "
        f"{results['load']['connections']} connections, {results['load']['duration_seconds']} s "
        f"per page; gunicorn, {results['load']['gunicorn_workers']} sync workers.",
        "",
        "| Page | Requests/s | p50 ms | p95 ms | Queries | Throughput vs baseline "
        "| p95 vs baseline | Targets |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines.extend(
        f"| {row['title']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
        f"| {row['queries']} | {row['throughput_ratio']:.0%} | {row['p95_ratio']:.1f}× "
        f"| {_verdict(row.get('meets_targets'))} |"
        for row in results["pages"].values()
    )
    workers = results.get("workers") or []
    if workers:
        peak = max(w.get("peak_rss_mb", 0) for w in workers)
        lines += [
            "",
            f"Web worker peak memory (RSS): {peak:.0f} MB "
            f"(target under {results['targets']['max_worker_rss_mb']} MB).",
        ]
    if "dashboard_cold_seconds" in results:
        lines.append(
            f"Outcomes dashboard figures worked out afresh (default view, every 5 minutes by "
            f"the beat task): {results['dashboard_cold_seconds']} s."
        )
    pack = results.get("meeting_pack")
    if pack:
        lines.append(
            f"Meeting pack, {pack['cases']} cases: {pack['pages']} pages in "
            f"{pack['total_seconds']} s, render peak memory {pack['render_peak_rss_mb']} MB "
            f"(target under {results['targets']['max_pack_seconds']} s)."
        )
    return "\n".join(lines)
