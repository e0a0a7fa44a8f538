"""A small run of the page benchmark, so ``make bench`` cannot rot.

The data is the demo city this test process keeps (``tests.conftest.demo_city``),
copied to a database file on SQLite, and ``seed_demo --scale 200`` run on it in a
child process, as ``make bench`` does after ``seed_demo``; the harness
then serves it with gunicorn on production settings and loads each page with
wrk for a second. Every page must answer 200 to every request (the harness
fails otherwise), and the results file must carry every figure the README's
table reports. The figures themselves are not judged here: speed is measured
by ``make bench`` at city scale, not by timed tests.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from django.db import transaction
from django.test.utils import override_settings

from tests.conftest import demo_city
from tests.helpers import clean_env, copy_test_database, run_manage
from tests.integration.test_celery_worker import REDIS_URL, _require_redis, _test_database_url

pytestmark = pytest.mark.xdist_group("demo_city")

PAGES = {"case_list", "case_page", "my_work", "triage", "agenda", "sog_actions", "dashboard"}
# Rows that show where time goes and have no target of their own.
REFERENCES = {"baseline", "signed_in", "logged", "layout"}


def _require_wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed; .ci/run installs it")
        pytest.skip("wrk is not installed (apt-get install wrk); outside CI only")


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_runs_every_page_and_reports_every_figure(tmp_path):
    _require_wrk()
    _require_redis()
    database_url = _test_database_url() or f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    common = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CSF_MEDIA_ROOT": str(tmp_path / "media"),
        "CSF_STATIC_ROOT": str(tmp_path / "static"),
    }
    seed_env = clean_env(DEBUG="1", CSF_DEMO_MODE="1", CSF_REQUIRE_MFA="0", **common)
    with override_settings(DEMO_MODE=True), transaction.atomic():
        demo_city()
    if database_url.startswith("sqlite"):
        copy_test_database(tmp_path / "bench.sqlite3")
    seeded = run_manage("seed_demo", "--scale", "200", env=seed_env, timeout=280)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    output = tmp_path / "results.json"
    bench_env = clean_env(
        DJANGO_SETTINGS_MODULE="demo.settings_bench",
        SECRET_KEY="bench-smoke-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        CSF_TRUSTED_PROXY_COUNT="1",
        **common,
    )
    ran = run_manage(
        "bench",
        "--duration=1",
        "--warmup=0",
        "--connections=2",
        "--workers=1",
        "--port=8799",
        "--pack-runs=1",
        f"--output={output}",
        env=bench_env,
        timeout=240,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr

    results = json.loads(output.read_text())
    assert set(results["pages"]) == PAGES | REFERENCES
    assert results["dataset"]["people"] >= 200
    for key, row in results["pages"].items():
        assert row["requests"] > 0 and row["rps"] > 0, key
        assert row["not_200"] == 0 and row["socket_errors"] == 0, key
        assert 0 < row["p50_ms"] <= row["p95_ms"], key
        assert row["throughput_ratio"] > 0, key
        if key in REFERENCES:
            assert row["reference"] is True and row["meets_targets"] is None, key
        else:
            assert row["reference"] is False and isinstance(row["meets_targets"], bool), key
        # Signed in with roles, user and devices in Redis, the reference rows need no query.
        assert row["queries"] > 0 or key in REFERENCES, key
    assert results["pages"]["baseline"]["queries"] == 0
    # The floor of a page showing personal data: signed in, and the read logged (one insert).
    assert results["pages"]["logged"]["queries"] == 1
    assert results["pages"]["baseline"]["throughput_ratio"] == 1.0
    assert results["workers"] and all(w["peak_rss_mb"] > 0 for w in results["workers"])
    assert results["meeting_pack"]["pages"] >= 3
    assert "cases_casevisibility" in results["case_list_explain"].lower() or (
        "case_visibility" in results["case_list_explain"].lower()
    )
    # The printed table is the README's: one row per page.
    assert ran.stdout.count("| ") >= len(PAGES | REFERENCES)
