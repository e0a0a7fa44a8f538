"""Faults on a bad day, with real components (issue 26): Redis stopped and started again
during requests and a document job, a worker killed mid-render, the database connection
dropped mid-request. Each asserts that nothing is lost and that people are told the truth.

Redis here is a redis-server of the test's own, on a free port, so stopping it disturbs no
other test. Workers are real Celery worker processes of the portal's own app.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from csf_portal.models import Role
from reports.models import GeneratedDocument as D
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.helpers import ROOT, clean_env, copy_test_database

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class OwnRedis:
    """A redis-server of this test's own, stopped and started again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed; CI must provide it")
            pytest.skip("redis-server is not installed (outside CI only)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        for _ in range(100):
            with contextlib.suppress(redis.RedisError):
                if redis.Redis.from_url(self.url(), socket_connect_timeout=0.2).ping():
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # as a crash: no goodbye to clients
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def _portal_on(redis_url: str, queue: str):
    """This process's portal using ``redis_url`` for cache, sessions' cache and broker."""
    from csf_portal.celery import app

    cache = {
        "default": {
            "BACKEND": "csf_portal.cache.ResilientRedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    keys = ("broker_url", "task_always_eager", "task_publish_retry", "task_default_queue")
    saved = {k: app.conf[k] for k in keys}
    saved["broker_connection_timeout"] = app.conf.broker_connection_timeout
    with override_settings(
        CACHES=cache,
        SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
        REDIS_URL=redis_url,
    ):
        app.conf.update(
            broker_url=redis_url,
            task_always_eager=False,
            task_publish_retry=False,
            task_default_queue=queue,
            broker_connection_timeout=0.5,
        )
        _drop_broker_connections(app)
        try:
            yield caches["default"]
        finally:
            app.conf.update(**saved)
            _drop_broker_connections(app)


def _drop_broker_connections(app) -> None:
    """Forget pooled broker connections, so the next message goes to the broker now set."""
    app._pool = None
    app.amqp._producer_pool = None
    app.amqp.flush_routes()


def _sign_in(user) -> Client:
    """A real sign-in: password, then the authenticator's code."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=True, name="Phone")
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    token = f"{TOTP(device.bin_key, step=device.step, digits=device.digits).token():06d}"
    response = client.post(reverse("mfa_verify"), {"token": token})
    assert response.status_code == 302 and "mfa" not in response["Location"]
    return client


def _worker_database(tmp_path: Path) -> tuple[str, Path | None]:
    """The URL a worker process reads the test database at: PostgreSQL's own, or a copy
    of the in-memory SQLite database as committed so far."""
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("postgresql"):
        url = (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
        return url, None
    path = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.sqlite3"
    return copy_test_database(path), path


def _document(document_id: str, sqlite_file: Path | None) -> dict:
    """The document's row as the worker left it."""
    columns = ("status", "hold", "attempts", "requeues", "file", "lease_expires_at", "request_key")
    if sqlite_file is None:
        return dict(zip(columns, D.objects.values_list(*columns).get(pk=document_id), strict=True))
    with sqlite3.connect(sqlite_file) as db:
        row = db.execute(
            f"SELECT {', '.join(columns)} FROM reports_generateddocument WHERE id = ?",  # noqa: S608
            [document_id.replace("-", "")],
        ).fetchone()
    return dict(zip(columns, row, strict=True))


def _count(key: str, sqlite_file: Path | None) -> int:
    if sqlite_file is None:
        return D.objects.filter(request_key=key).count()
    with sqlite3.connect(sqlite_file) as db:
        return db.execute(
            "SELECT count(*) FROM reports_generateddocument WHERE request_key = ?", [key]
        ).fetchone()[0]


@contextlib.contextmanager
def _worker(*, redis_url: str, database_url: str, queue: str, media: Path, **extra: str):
    celery_bin = str(Path(sys.executable).with_name("celery"))
    env = clean_env(
        SECRET_KEY="worker-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="localhost",
        REDIS_URL=redis_url,
        DATABASE_URL=database_url,
        CSF_CELERY_QUEUE=queue,
        CSF_MEDIA_ROOT=str(media),
        **extra,
    )
    log = media.parent / f"{queue}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [celery_bin, "-A", "csf_portal", "worker", "--pool=solo", "-Q", queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, render child too
        )  # fmt: skip
    try:
        yield proc, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _wait_for(predicate, *, timeout: float, log: Path, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen in {timeout} s; worker log:\n{log.read_text()}")


@pytest.fixture
def case_for_chair():
    from referrals.services import referral_accept
    from tests.referrals.conftest import complete_referral

    referrer = UserFactory(agency=AgencyFactory(name="Police"))
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    referral = complete_referral(referrer, given_name="Zebedee", family_name="Quartermaine")
    referral_accept(actor=chair, referral=referral)
    referral.refresh_from_db()
    return chair, referrer, referral.person


def test_redis_stopped_and_started_again_during_requests_and_a_document_job(
    own_redis, tmp_path, case_for_chair, django_capture_on_commit_callbacks
):
    from reports import services

    chair, referrer, person = case_for_chair
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    with _portal_on(own_redis.url(), queue) as cache:
        signed_in = _sign_in(chair)
        assert signed_in.get(reverse("cases:list")).status_code == 200
        assert cache.is_reachable()

        own_redis.stop()  # Redis is gone, mid-session
        assert signed_in.get(reverse("cases:list")).status_code == 200  # the session holds
        assert signed_in.get(reverse("cases:person", args=[person.pk])).status_code == 200
        newcomer = _sign_in(referrer)  # and someone new signs in
        assert newcomer.get(reverse("home")).status_code == 200
        health = signed_in.get(reverse("healthz"))
        assert health.status_code == 200
        assert health.json() | {"cache": "-"} == {
            "status": "degraded", "database": "ok", "sessions": "ok", "cache": "-",
            "broker": "unavailable",
        }  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in.post(
                reverse("reports:subject_access_request", args=[person.pk]), {"format": "json"}
            )
        assert response.status_code == 302  # recorded, not a server error
        document = D.objects.get()
        assert document.status == D.Status.QUEUED and document.hold == D.Hold.BROKER_DOWN
        page = signed_in.get(response["Location"]).content.decode()
        assert "Delayed" in page and "do not need to ask again" in page

        own_redis.start()  # Redis is back (empty: it keeps nothing on disk)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.documents_sweep() == 1  # as beat runs it each minute
        document.refresh_from_db()
        assert document.hold == D.Hold.NONE  # queued on the broker now
        assert signed_in.get(reverse("cases:list")).status_code == 200
        assert signed_in.get(reverse("healthz")).json()["status"] in {"ok", "degraded"}
        assert cache.is_reachable()

    database_url, sqlite_file = _worker_database(tmp_path)
    media = tmp_path / "media"
    with _worker(
        redis_url=own_redis.url(), database_url=database_url, queue=queue, media=media
    ) as (_proc, log):
        done = _wait_for(
            lambda: _document(str(document.pk), sqlite_file)["status"] == "done",
            timeout=90, log=log, what="the delayed document being produced",
        )  # fmt: skip
    assert done
    row = _document(str(document.pk), sqlite_file)
    assert (media / row["file"]).read_bytes().startswith(b"{")  # the JSON export itself
    assert _count(document.request_key, sqlite_file) == 1  # one request, one document


def test_a_worker_killed_mid_render_is_noticed_and_the_document_produced_once(own_redis, tmp_path):
    import pypdf

    from tests.integration.pack_scenario import build

    document_id = str(build())  # a queued meeting pack, committed
    key = D.objects.get(pk=document_id).request_key
    database_url, sqlite_file = _worker_database(tmp_path)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    media = tmp_path / "media"
    lease = "3"  # seconds: short, so the test need not wait minutes
    client = _celery_client(own_redis.url())
    with _worker(
        redis_url=own_redis.url(), database_url=database_url, queue=queue, media=media,
        CSF_DOCUMENT_LEASE_SECONDS=lease,
    ) as (proc, log):  # fmt: skip
        client.send_task("reports.generate_document", args=[document_id], queue=queue)
        _wait_for(
            lambda: _document(document_id, sqlite_file)["status"] == "running",
            timeout=60, log=log, what="the render starting",
        )  # fmt: skip
        os.killpg(proc.pid, signal.SIGKILL)  # the whole worker, render child and all
        proc.wait(timeout=10)
    killed = _document(document_id, sqlite_file)
    assert killed["status"] == "running", "the render finished before the worker was killed"
    assert killed["attempts"] == 1 and killed["lease_expires_at"] is not None

    with _worker(
        redis_url=own_redis.url(), database_url=database_url, queue=queue, media=media,
        CSF_DOCUMENT_LEASE_SECONDS=lease,
    ) as (_proc, log):  # fmt: skip
        # The broker still holds the killed worker's unacknowledged message, but only
        # hands it out again after its visibility timeout (30 minutes): the lease is
        # what notices. Beat sends the sweep each minute; here it is sent at once, then
        # again until the lease has lapsed.
        def swept_and_done() -> bool:
            row = _document(document_id, sqlite_file)
            if row["status"] == "running" and row["requeues"] == 0:
                client.send_task("reports.sweep_documents", queue=queue).get(timeout=30)
            return row["status"] == "done"

        started = time.monotonic()
        _wait_for(swept_and_done, timeout=120, log=log, what="the re-queued render")
        took = time.monotonic() - started
    row = _document(document_id, sqlite_file)
    assert row["requeues"] == 1 and row["attempts"] == 2  # lost once, rendered again
    assert row["hold"] == "" and row["lease_expires_at"] is None  # ready: nothing held
    assert _count(key, sqlite_file) == 1  # exactly one document
    assert took < 60  # noticed within the lease and a sweep, not the visibility timeout
    reader = pypdf.PdfReader(media / row["file"])
    assert "Prepared for Sam Okafor" in "\n".join(p.extract_text() for p in reader.pages)


def _celery_client(redis_url: str):
    from celery import Celery

    client = Celery("csf_portal_faults", broker=redis_url, backend=redis_url, set_as_current=False)
    client.conf.task_serializer = "json"
    return client


def test_the_database_connection_dropped_mid_request_is_an_honest_page_and_no_write(
    case_for_chair,
):
    """The connection goes while a risk is being saved: the page says nothing was saved
    (503, not a server error), no half of it is written, and the next request works."""
    from django.db.models.signals import pre_save

    from cases.models import Case, Risk

    chair, _referrer, person = case_for_chair
    case = Case.objects.get(person=person)
    client = _sign_in(chair)
    before = Risk.objects.count()
    cut = _connection_cutter()

    def drop(sender, **kwargs):
        cut()

    pre_save.connect(drop, sender=Risk, weak=False)
    try:
        with override_settings(DEBUG=False, DEBUG_PROPAGATE_EXCEPTIONS=False):
            client.raise_request_exception = False
            response = client.post(
                reverse("cases:risk_add", args=[case.pk]),
                {"category": "self_neglect", "level": "high", "description": "Not eating"},
            )
    finally:
        pre_save.disconnect(drop, sender=Risk)
        cut.release()
    assert response.status_code == 503
    page = response.content.decode()
    assert "the service is unavailable" in page.lower()
    assert "has not been saved" in page and "back button" in page
    assert response["Retry-After"] == "60"
    connection.close()  # as Django does at the end of a request with a broken connection
    assert Risk.objects.count() == before  # nothing half-written
    assert client.get(reverse("cases:list")).status_code == 200  # the next request reconnects


def _connection_cutter():
    """A callable that really breaks this process's database connection, and undoes it.

    PostgreSQL: another session terminates our backend (pg_terminate_backend), as a
    database restart or failover does. SQLite (in memory, shared cache): another connection
    holds the table's read lock, so our write is refused with "database table is locked".
    """
    if connection.vendor == "postgresql":
        import psycopg

        settings = connection.settings_dict

        class Cutter:
            def __call__(self) -> None:
                pid = connection.connection.info.backend_pid
                with psycopg.connect(
                    host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                    user=settings["USER"], dbname=settings["NAME"], autocommit=True,
                ) as other:  # fmt: skip
                    other.execute("SELECT pg_terminate_backend(%s)", [pid])

            def release(self) -> None:
                pass

        return Cutter()

    name = connection.settings_dict["NAME"]

    class Locker:
        other: sqlite3.Connection | None = None

        def __call__(self) -> None:
            # A reader of another connection holds the table's read lock until it ends:
            # our insert into it is refused ("database table is locked: cases_risk").
            self.other = sqlite3.connect(name, uri=True, isolation_level=None)
            self.other.execute("BEGIN")
            self.other.execute("SELECT count(*) FROM cases_risk").fetchone()

        def release(self) -> None:
            if self.other is not None:
                self.other.execute("ROLLBACK")
                self.other.close()

    return Locker()


def test_the_lease_setting_reaches_the_worker():
    """The worker tests above shorten the lease through the environment, as operators may."""
    from tests.helpers import run_python

    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
        "django.setup(); from django.conf import settings;"
        "print(settings.CSF_DOCUMENT_LEASE_SECONDS, settings.CELERY_TASK_DEFAULT_QUEUE)",
        env=clean_env(CSF_DOCUMENT_LEASE_SECONDS="7", CSF_CELERY_QUEUE="q1", DEBUG="1"),
    )
    assert result.stdout.split() == ["7", "q1"], result.stderr
