"""Run the portal's own commands in a child process with a chosen environment."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "SECRET_KEY": "production-like-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "csf.example.org",
    "EMAIL_URL": "smtp+tls://portal:mail-password@smtp.example.org:587",
}


def clean_env(**overrides: str) -> dict[str, str]:
    """The parent's environment without any portal variable, plus ``overrides``."""
    portal_vars = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DEBUG",
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in portal_vars and not k.startswith("CSF_")}
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def copy_test_database(path: Path) -> str:
    """The in-memory SQLite test database, as committed so far, copied to ``path``.

    A child process cannot open this process's in-memory database; it opens the
    copy. The schema and reference rows are those of a migrated database
    (tests/test_migrations.py checks they agree), so the child need not migrate.
    """
    from django.db import connection

    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def as_read(client, url: str, data: dict) -> dict:
    """An admin change form's data as a browser sends it: with the version token the page
    carries (csf_portal.admin_versions), read by GETting the page first."""
    import re

    page = client.get(url).content.decode()
    found = re.search(r'name="read_version" value="([^"]*)"', page)
    return {**data, "read_version": found.group(1) if found else ""}
