"""docker-compose.yml and the Dockerfile stay true to the code.

No Docker engine runs here, so the compose file is parsed and checked, and the
web service's own command line is started for real with gunicorn.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from tests.helpers import PRODUCTION_ENV, ROOT, clean_env

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_names_every_service():
    assert set(SERVICES) == {"web", "worker", "beat", "db", "redis", "migrate"}


def test_long_running_services_have_health_checks():
    for name in ("web", "worker", "db", "redis"):
        assert "healthcheck" in SERVICES[name], name


def test_data_lives_in_named_volumes():
    assert {"pgdata", "redisdata", "media"} <= set(COMPOSE["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    for name in ("web", "worker"):
        assert "media:/app/var/media" in SERVICES[name]["volumes"]


def test_processes_run_the_portal_code():
    assert SERVICES["web"]["command"][:2] == ["gunicorn", "csf_portal.wsgi:application"]
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "csf_portal", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "csf_portal", "beat"]
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert SERVICES["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert "@db:5432/" in SERVICES["web"]["environment"]["DATABASE_URL"]


def test_secrets_are_required_not_defaulted():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert "SECRET_KEY" not in text  # comes from .env, never written here


def test_dockerfile_copies_only_files_that_exist():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for src in line.split()[1:-1]:
                if src != ".":
                    assert (ROOT / src).exists(), src


def test_every_setting_variable_is_documented_in_the_readme():
    settings_src = (ROOT / "csf_portal" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_src))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= names
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"not in the README's variables table: {missing}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_web_command_serves_health_with_gunicorn(tmp_path):
    port = _free_port()
    command = list(SERVICES["web"]["command"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = clean_env(
        **{**PRODUCTION_ENV, "ALLOWED_HOSTS": "localhost,127.0.0.1"},
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
    )
    proc = subprocess.Popen(
        [gunicorn, *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200
                    assert b'"database": "ok"' in r.read()
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.terminate()
                    raise AssertionError(proc.communicate(timeout=10)[0]) from None
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
