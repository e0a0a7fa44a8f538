"""A real Celery worker process takes a task from Redis and runs it.

The worker is started for this test with the portal's own Celery app, on a
queue of its own, and is stopped afterwards. Redis is the one configured in
``REDIS_URL`` (CI), or the local default on loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.helpers import ROOT, clean_env

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker(tmp_path, db):
    if not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must provide it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (outside CI only)")
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("postgresql"):
        database_url = (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        database_url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = clean_env(
        SECRET_KEY="worker-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="localhost",
        REDIS_URL=REDIS_URL,
        DATABASE_URL=database_url,
    )
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
    yield queue, proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_real_worker_runs_a_task_through_redis(worker):
    queue, proc = worker
    client = Celery("csf_portal_test", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    client.conf.task_serializer = "json"
    result = client.send_task("csf_portal.health_probe", queue=queue)
    try:
        value = result.get(timeout=90)
    except Exception:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
        raise AssertionError(f"worker did not answer; its log:\n{output}") from None
    assert value == {"database": "ok", "worker": "ok"}
    assert result.state == "SUCCESS"
