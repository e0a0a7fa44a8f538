"""With Redis unreachable, people still sign in and work, and a document asked for is
still recorded (issue 26, part). The Redis here is a real client against a port where
nothing listens: connection refused, as when Redis is stopped."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from csf_portal.cache import ResilientRedisCache
from csf_portal.models import Role
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1
REDIS_DOWN = {
    "default": {
        "BACKEND": "csf_portal.cache.ResilientRedisCache",
        "LOCATION": DOWN,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def redis_down():
    with override_settings(
        CACHES=REDIS_DOWN,
        SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
        CSF_AUTHZ_CACHE=True,
    ):  # Django drops its cache connections when CACHES changes, both ways
        yield caches["default"]


def test_the_cache_is_a_miss_not_an_error_while_redis_is_down(redis_down):
    assert isinstance(redis_down, ResilientRedisCache)
    assert not redis_down.is_reachable()
    redis_down.set("k", "v")
    assert redis_down.get("k") is None
    assert redis_down.get("k", "default") == "default"
    assert redis_down.get_many(["a", "b"]) == {}
    assert redis_down.add("k", "v") is False
    assert redis_down.delete("k") is False


def test_people_sign_in_and_work_while_redis_is_down(redis_down):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory(agency=AgencyFactory(), roles=[Role.PRACTITIONER])
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    client = Client()
    credentials = {"username": user.username, "password": TEST_PASSWORD}
    response = client.post(reverse("login"), credentials)
    assert response.status_code == 302  # signed in: the session was written
    assert "mfa/verify" in client.get(reverse("home"))["Location"]  # second factor next
    token = f"{TOTP(device.bin_key, step=device.step, digits=device.digits).token():06d}"
    response = client.post(reverse("mfa_verify"), {"token": token})
    assert response.status_code == 302 and "mfa" not in response["Location"]
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("cases:list")).status_code == 200
    health = client.get(reverse("healthz"))
    assert health.status_code == 200 and health.json()["database"] == "ok"


def test_a_document_asked_for_while_the_broker_is_down_is_recorded_for_the_sweep(
    django_capture_on_commit_callbacks,
):
    from csf_portal.celery import app
    from reports import services
    from reports.dashboard import Filters
    from reports.models import GeneratedDocument

    chair = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_publish_retry")}
    app.conf.update(broker_url=DOWN, task_always_eager=False, task_publish_retry=False)
    saved["broker_connection_timeout"] = app.conf.broker_connection_timeout
    app.conf.broker_connection_timeout = 0.5
    app._pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            document = services.outcomes_report_request(actor=chair, filters=Filters.default())
    finally:
        app.conf.update(**saved)
        app._pool = None
    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.QUEUED
    assert GeneratedDocument.objects.filter(pk=document.pk).exists()
