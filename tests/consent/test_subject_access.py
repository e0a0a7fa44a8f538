"""Subject access: everything held about a person, produced in the background, once."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from csf_portal.celery import app as celery_app
from csf_portal.models import AccessEvent, Role
from reports import services
from reports.models import GeneratedDocument
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import complete_referral

pytestmark = pytest.mark.django_db(transaction=True)
D = GeneratedDocument


@pytest.fixture
def in_process_tasks():
    """Run tasks in this process whatever the broker setting (a real worker is tested elsewhere)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def accepted():
    referrer = UserFactory(agency=AgencyFactory(name="Police"))
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    referral = complete_referral(referrer, given_name="Zebedee", family_name="Quartermaine")
    from referrals.services import referral_accept

    referral_accept(actor=chair, referral=referral)
    referral.refresh_from_db()
    return {"referrer": referrer, "chair": chair, "person": referral.person, "referral": referral}


def test_chair_produces_and_downloads_the_export(accepted, in_process_tasks):
    chair, person = accepted["chair"], accepted["person"]
    client = signed_in_client(chair)
    client.get(reverse("cases:person", args=[person.pk]))  # a read to appear in the log
    found = client.get(
        reverse("reports:subject_access"),
        {
            "family_name": "quartermaine",
            "date_of_birth_0": "3",
            "date_of_birth_1": "4",
            "date_of_birth_2": "1982",
        },
    )
    assert "Zebedee Quartermaine" in found.content.decode()
    response = client.post(
        reverse("reports:subject_access_request", args=[person.pk]), {"format": "json"}
    )
    document = D.objects.get()
    assert response["Location"] == reverse("reports:document", args=[document.pk])
    assert document.status == D.Status.DONE
    assert len(document.sha256) == 64
    page = client.get(reverse("reports:document", args=[document.pk])).content.decode()
    assert "Download the subject access export (json) (JSON," in page
    download = client.get(reverse("reports:document_download", args=[document.pk]))
    data = json.loads(b"".join(download.streaming_content))
    assert data["person"]["family_name"] == "Quartermaine"
    assert data["referrals"][0]["id"] == str(accepted["referral"].pk)
    assert data["consent"] and data["cases"] and data["involvements"] and data["risks"]
    assert "care_plans" in data and "care_plans" in data["history"]
    assert {"person", "referrals", "cases", "consent", "assessments"} <= set(data["history"])
    assert any(e["action"] == "Viewed" for e in data["access_log"])
    assert "password" not in json.dumps(data)
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.EXPORT, person_id=person.pk, user=chair
    ).exists()


def test_asking_twice_while_in_hand_gives_one_document(accepted):
    chair, person = accepted["chair"], accepted["person"]
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://"
    try:
        first = services.subject_access_request(actor=chair, person=person)
        second = services.subject_access_request(actor=chair, person=person)
    finally:
        celery_app.conf.task_always_eager = previous
    assert first.pk == second.pk
    assert D.objects.count() == 1
    assert first.status == D.Status.QUEUED  # recorded before it was queued


def test_generation_is_idempotent_and_the_sweeper_requeues_stuck_documents(
    accepted, in_process_tasks
):
    import datetime

    from django.utils import timezone

    document = D.objects.create(
        kind=D.Kind.SUBJECT_ACCESS_JSON,
        person=accepted["person"],
        requested_by=accepted["chair"],
        request_key="k",
    )
    D.objects.filter(pk=document.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.documents_sweep() == 1
    document.refresh_from_db()
    assert document.status == D.Status.DONE
    checksum = document.sha256
    services.document_generate(document_id=str(document.pk))  # delivered twice
    document.refresh_from_db()
    assert document.sha256 == checksum and document.attempts == 1
    assert services.documents_sweep() == 0


def test_failure_is_retried_then_shown_with_try_again(accepted, in_process_tasks, monkeypatch):
    from reports import subject_access

    def broken(person):
        raise OSError("disk full")

    monkeypatch.setattr(subject_access, "render_json", broken)
    chair = accepted["chair"]
    client = signed_in_client(chair)
    client.post(
        reverse("reports:subject_access_request", args=[accepted["person"].pk]),
        {"format": "json"},
    )
    document = D.objects.get()
    assert document.status == D.Status.FAILED
    assert document.attempts == 4  # first try and three retries
    page = client.get(reverse("reports:document", args=[document.pk])).content.decode()
    assert "could not be produced" in page and "Try again" in page
    monkeypatch.undo()
    client.post(reverse("reports:document_retry", args=[document.pk]))
    document.refresh_from_db()
    assert document.status == D.Status.DONE


def test_only_chairs_and_only_the_requester_downloads(accepted, in_process_tasks):
    person = accepted["person"]
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    for user in (accepted["referrer"], UserFactory(roles=[Role.COMMISSIONER]), admin):
        client = signed_in_client(user)
        assert client.get(reverse("reports:subject_access")).status_code == 404
        assert (
            client.post(reverse("reports:subject_access_request", args=[person.pk])).status_code
            == 404
        )
    chair = accepted["chair"]
    signed_in_client(chair).post(reverse("reports:subject_access_request", args=[person.pk]))
    document = D.objects.get()
    other_chair = UserFactory(roles=[Role.FORUM_CHAIR])
    assert (
        signed_in_client(other_chair)
        .get(reverse("reports:document_download", args=[document.pk]))
        .status_code
        == 404
    )
    assert (
        signed_in_client(chair)
        .get(reverse("reports:document_download", args=[document.pk]))
        .status_code
        == 200
    )
    assert AccessEvent.objects.filter(
        user=chair, action=AccessEvent.Action.EXPORT, person_id=person.pk
    ).exists()


def test_search_needs_enough_to_identify_someone(accepted):
    client = signed_in_client(accepted["chair"])
    response = client.get(reverse("reports:subject_access"), {"family_name": "Quartermaine"})
    assert "Enter an NHS number, or a last name and date of birth" in response.content.decode()
