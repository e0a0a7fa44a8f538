"""/healthz names the database, sessions, cache and broker; 503 when signed-in pages
cannot be served (the database, which holds the sessions, is down).

The failure cases run the portal in a child process pointed at addresses where
nothing listens, so the failures are real connection failures.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.helpers import PRODUCTION_ENV, clean_env, run_python

PROBE = (
    "import django, os, json; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
    "django.setup(); from django.test import Client;"
    "r = Client().get('/healthz', HTTP_HOST='csf.example.org');"
    "print(r.status_code); print(r.content.decode())"
)


@pytest.mark.django_db
def test_healthy(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] in {"ok", "degraded"}


def _probe(**env):
    result = run_python(
        PROBE, env=clean_env(**PRODUCTION_ENV, CSF_SSL_REDIRECT="0", **env), timeout=60
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    return int(status), json.loads(body)


def test_database_unreachable_is_503():
    status, body = _probe(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    assert status == 503
    assert body["database"] == "unavailable"
    assert body["sessions"] == "unavailable"  # nobody can sign in: say so
    assert body["status"] == "unavailable"


def test_broker_unreachable_is_reported(tmp_path):
    status, body = _probe(
        DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert status == 200  # people still sign in and work: sessions are in the database
    assert body == {
        "status": "degraded",
        "database": "ok",
        "sessions": "ok",
        "cache": "unavailable (reads and writes fall back to the database)",
        "broker": "unavailable",
    }


def test_no_broker_configured_means_in_process_tasks(tmp_path):
    status, body = _probe(DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}")
    assert status == 200
    assert body["broker"].startswith("not configured")
