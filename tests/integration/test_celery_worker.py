"""A real Celery worker process takes a task from Redis and runs it.

The worker is started for this test with the portal's own Celery app, on a
queue of its own, and is stopped afterwards. Redis is the one configured in
``REDIS_URL`` (CI), or the local default on loopback.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.helpers import ROOT, clean_env, copy_test_database

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _require_redis() -> None:
    if not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must provide it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (outside CI only)")


def _test_database_url() -> str | None:
    """The test database's URL on PostgreSQL; None on SQLite (in memory, this process only)."""
    settings = connection.settings_dict
    if not settings["ENGINE"].endswith("postgresql"):
        return None
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        SECRET_KEY="worker-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="localhost",
        REDIS_URL=REDIS_URL,
        DATABASE_URL=database_url,
        **extra,
    )


@contextmanager
def _worker(env: dict[str, str]):
    """A worker process of the portal's own Celery app, on a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    celery_bin = str(Path(sys.executable).with_name("celery"))
    proc = subprocess.Popen(
        [
            celery_bin,
            "-A",
            "csf_portal",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _client() -> Celery:
    client = Celery("csf_portal_test", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    client.conf.task_serializer = "json"
    return client


def _answer(result, proc, timeout: int = 90):
    try:
        return result.get(timeout=timeout)
    except Exception:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
        raise AssertionError(f"worker did not answer; its log:\n{output}") from None


@pytest.fixture
def worker(tmp_path, db):
    _require_redis()
    database_url = _test_database_url() or f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    with _worker(_env(database_url)) as running:
        yield running


def test_a_real_worker_runs_a_task_through_redis(worker):
    queue, proc = worker
    result = _client().send_task("csf_portal.health_probe", queue=queue)
    value = _answer(result, proc)
    assert value == {"database": "ok", "worker": "ok"}
    assert result.state == "SUCCESS"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_a_meeting_pack_through_redis(tmp_path):
    """Request recorded in the database, rendered by a worker process, read back as PDF text."""
    import pypdf

    _require_redis()
    media = tmp_path / "media"
    database_url = _test_database_url()
    sqlite_file = tmp_path / "pack.sqlite3"
    from tests.integration.pack_scenario import build

    document_id = str(build())  # committed: this test is transactional
    if database_url is None:
        database_url = copy_test_database(sqlite_file)
    with _worker(_env(database_url, CSF_MEDIA_ROOT=str(media))) as (queue, proc):
        result = _client().send_task("reports.generate_document", args=[document_id], queue=queue)
        assert _answer(result, proc, timeout=180) == "done"
    if sqlite_file.exists():
        with sqlite3.connect(sqlite_file) as db:
            status, name, pages = db.execute(
                "SELECT status, file, page_count FROM reports_generateddocument WHERE id = ?",
                [document_id.replace("-", "")],
            ).fetchone()
    else:
        from reports.models import GeneratedDocument

        document = GeneratedDocument.objects.get(pk=document_id)
        status, name, pages = document.status, document.file.name, document.page_count
    assert status == "done" and pages >= 3
    reader = pypdf.PdfReader(io.BytesIO((media / name).read_bytes()))
    assert len(reader.pages) == pages
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Prepared for Sam Okafor" in text
    assert "Ada Brennan" in text and "Tom Kerrigan" in text and "Self-neglect" in text


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_password_reset_email(tmp_path):
    """The reset look-up and email happen on the worker, away from the request's timing:
    the worker's file mailer holds one email with a working link, and nothing for an
    address no account has."""
    import email
    from email import policy

    from django.contrib.auth.tokens import default_token_generator
    from django.test.utils import override_settings

    from tests.factories import UserFactory

    _require_redis()
    user = UserFactory(email="reset-me@example.org")
    database_url = _test_database_url() or copy_test_database(tmp_path / "reset.sqlite3")
    outbox = tmp_path / "mail"
    env = _env(
        database_url, EMAIL_URL=f"filemail:///{outbox}", CSF_BASE_URL="https://csf.example.org"
    )
    with _worker(env) as (queue, proc):
        client = _client()
        for address in ("nobody@example.org", "RESET-ME@example.org"):
            result = client.send_task(
                "csf_portal.password_reset_send",
                args=[address, "https://csf.example.org"],
                queue=queue,
            )
            assert _answer(result, proc) is None and result.state == "SUCCESS"
    (sent,) = outbox.iterdir()  # one file per connection: the unknown address made none
    raw = sent.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "reset-me@example.org"
    assert message["Subject"] == "Reset your CSF Portal password"
    body = message.get_content()
    link = body.split("https://csf.example.org/accounts/password/reset/", 1)[1].split()[0]
    _uid, token = link.strip("/").split("/")
    user.refresh_from_db()
    with override_settings(SECRET_KEY=env["SECRET_KEY"]):  # the worker's key signed it
        assert default_token_generator.check_token(user, token)
