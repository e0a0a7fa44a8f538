"""A document whose worker vanished is queued again within minutes, and its page says so
(issue 26). The clock is frozen; the real worker killed mid-render is in tests/integration."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from csf_portal.celery import app as celery_app
from csf_portal.models import Role
from reports import services
from reports.models import GeneratedDocument as D
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def in_process(django_capture_on_commit_callbacks):
    """Tasks queued on commit inside ``with in_process():`` run here as it ends."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def requester():
    return UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])


def _running(requester, *, lease_left: datetime.timedelta, requeues: int = 0) -> D:
    person = CaseFactory().person
    return D.objects.create(
        kind=D.Kind.SUBJECT_ACCESS_JSON,
        person=person,
        requested_by=requester,
        request_key=f"sar:{person.pk}",
        status=D.Status.RUNNING,
        attempts=1,
        requeues=requeues,
        started_at=timezone.now() - datetime.timedelta(minutes=1),
        lease_expires_at=timezone.now() + lease_left,
    )


@time_machine.travel(NOON, tick=False)
def test_a_document_whose_lease_is_alive_is_left_to_its_worker(requester):
    document = _running(requester, lease_left=datetime.timedelta(seconds=30))
    assert services.documents_sweep() == 0
    document.refresh_from_db()
    assert document.status == D.Status.RUNNING and document.hold == D.Hold.NONE


@time_machine.travel(NOON, tick=False)
def test_a_lapsed_lease_is_queued_again_and_the_page_says_retrying(
    requester, monkeypatch, django_capture_on_commit_callbacks
):
    from reports.tasks import generate_document

    document = _running(requester, lease_left=-datetime.timedelta(seconds=1))
    sent: list[str] = []  # the message a broker would carry, kept here to look at
    monkeypatch.setattr(generate_document, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.documents_sweep() == 1
    assert sent == [str(document.pk)]
    document.refresh_from_db()
    assert document.status == D.Status.QUEUED
    assert document.hold == D.Hold.WORKER_LOST and document.requeues == 1
    assert document.lease_expires_at is None
    client = signed_in_client(requester)
    page = client.get(reverse("reports:document", args=[document.pk])).content.decode()
    assert "Retrying" in page and "attempt 2" in page
    assert "Try again" not in page  # not yet: it has only just been queued again


def test_try_again_appears_after_a_short_wait_and_produces_the_document(requester, in_process):
    with time_machine.travel(NOON, tick=False):
        document = _running(requester, lease_left=-datetime.timedelta(seconds=1))
        D.objects.filter(pk=document.pk).update(
            status=D.Status.QUEUED, hold=D.Hold.WORKER_LOST, requeues=1, updated_at=NOON
        )
    client = signed_in_client(requester)
    with time_machine.travel(NOON + services.RETRY_AFTER, tick=False):
        page = client.get(reverse("reports:document", args=[document.pk])).content.decode()
        assert "Try again" in page
        with in_process():
            client.post(reverse("reports:document_retry", args=[document.pk]))
    document.refresh_from_db()
    assert document.status == D.Status.DONE and document.hold == D.Hold.NONE
    assert D.objects.filter(request_key=document.request_key).count() == 1


@time_machine.travel(NOON, tick=False)
def test_only_the_requester_may_try_again(requester, in_process):
    document = _running(requester, lease_left=-datetime.timedelta(minutes=5))
    D.objects.filter(pk=document.pk).update(
        status=D.Status.QUEUED,
        hold=D.Hold.WORKER_LOST,
        updated_at=NOON - services.RETRY_AFTER,
    )
    other = UserFactory(agency=requester.agency, roles=[Role.FORUM_CHAIR])
    response = signed_in_client(other).post(reverse("reports:document_retry", args=[document.pk]))
    assert response.status_code == 404
    document.refresh_from_db()
    assert document.status == D.Status.QUEUED


@time_machine.travel(NOON, tick=False)
def test_a_document_lost_by_three_workers_fails_with_the_reason(requester):
    document = _running(
        requester, lease_left=-datetime.timedelta(seconds=1), requeues=services.MAX_REQUEUES - 1
    )
    services.documents_sweep()
    document.refresh_from_db()
    assert document.status == D.Status.FAILED
    assert "stopped each time" in document.error
    page = signed_in_client(requester).get(reverse("reports:document", args=[document.pk]))
    assert "Try again" in page.content.decode()


@time_machine.travel(NOON, tick=False)
def test_delayed_by_the_broker_is_said_and_queued_at_the_next_sweep(requester, in_process):
    person = CaseFactory().person
    document = D.objects.create(
        kind=D.Kind.SUBJECT_ACCESS_JSON,
        person=person,
        requested_by=requester,
        request_key=f"sar:{person.pk}",
        hold=D.Hold.BROKER_DOWN,
    )
    page = signed_in_client(requester).get(reverse("reports:document", args=[document.pk]))
    text = page.content.decode()
    assert "Delayed" in text and "do not need to ask again" in text
    assert "Try again" not in text
    with in_process():
        assert services.documents_sweep() == 1  # at once, not after the ten-minute wait
    document.refresh_from_db()
    assert document.status == D.Status.DONE and document.hold == D.Hold.NONE


@pytest.mark.django_db(transaction=True)
@override_settings(CSF_DOCUMENT_LEASE_SECONDS=0.4)
def test_the_worker_renews_the_lease_while_it_renders(requester, monkeypatch):
    """The heartbeat thread, on its own database connection, keeps the lease ahead."""
    person = CaseFactory().person
    document = D.objects.create(
        kind=D.Kind.SUBJECT_ACCESS_JSON,
        person=person,
        requested_by=requester,
        request_key=f"sar:{person.pk}",
    )
    from reports import subject_access

    leases: list[datetime.datetime | None] = []
    real_render = subject_access.render_json

    def slow_render(p):
        for _ in range(3):
            time.sleep(0.3)
            leases.append(D.objects.get(pk=document.pk).lease_expires_at)
        return real_render(p)

    monkeypatch.setattr(subject_access, "render_json", slow_render)
    started = timezone.now()
    services.document_generate(document_id=str(document.pk), heartbeat=True)
    document.refresh_from_db()
    assert document.status == D.Status.DONE and document.lease_expires_at is None
    assert all(lease is not None for lease in leases)
    assert leases[-1] > started + datetime.timedelta(seconds=0.4)  # renewed, not the first
    assert not [t for t in threading.enumerate() if t.name == "lease"]  # the beat stopped
