"""Background documents: request (recorded, then queued after commit), generate, fail, sweep.

At-least-once delivery is assumed: generating is idempotent (a finished document
is left alone), and a request while the same one is in hand returns it.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Person
from csf_portal import access
from csf_portal.errors import NotAllowed
from csf_portal.models import Role, User
from reports.models import GeneratedDocument

logger = logging.getLogger(__name__)
D = GeneratedDocument


def can_request_subject_access(user: User) -> bool:
    return access.has_role(user, Role.FORUM_CHAIR) or access.has_role(user, Role.ADMINISTRATOR)


def _enqueue(document: D) -> None:
    from reports.tasks import generate_document

    document_id = str(document.pk)
    transaction.on_commit(lambda: generate_document.delay(document_id))


def subject_access_request(*, actor: User, person: Person) -> D:
    """Ask for everything held about ``person``. The same request twice gives one document."""
    if not can_request_subject_access(actor):
        raise NotAllowed("Only a forum chair or an administrator can make a subject access export.")
    key = f"{D.Kind.SUBJECT_ACCESS_JSON}:{person.pk}:{actor.pk}"
    in_hand = D.objects.filter(request_key=key, status__in=[D.Status.QUEUED, D.Status.RUNNING])
    try:
        with transaction.atomic():
            existing = in_hand.first()
            if existing is not None:
                return existing
            document = D.objects.create(
                kind=D.Kind.SUBJECT_ACCESS_JSON, person=person, requested_by=actor, request_key=key
            )
            _enqueue(document)
            return document
    except IntegrityError:  # a simultaneous identical request won the race
        existing = in_hand.first()
        assert existing is not None
        return existing


def _render(document: D) -> tuple[bytes, str]:
    if document.kind == D.Kind.SUBJECT_ACCESS_JSON:
        from reports import subject_access

        assert document.person is not None
        return subject_access.render_json(document.person), "json"
    raise ValueError(f"Unknown document kind {document.kind}")


def document_generate(*, document_id: str) -> D:
    """Produce the document's file. Safe to run again: a finished document is kept."""
    with transaction.atomic():
        document = (
            D.objects.select_for_update(of=("self",)).select_related("person").get(pk=document_id)
        )
        if document.status == D.Status.DONE:
            return document
        document.status = D.Status.RUNNING
        document.attempts += 1
        document.started_at = timezone.now()
        document.save(update_fields=["status", "attempts", "started_at", "updated_at"])
    content, extension = _render(document)
    with transaction.atomic():
        document = D.objects.select_for_update().get(pk=document_id)
        if document.status == D.Status.DONE:
            return document
        name = f"{document.kind}-{document.pk}.{extension}"
        document.file.save(name, ContentFile(content), save=False)
        document.size = len(content)
        document.sha256 = hashlib.sha256(content).hexdigest()
        document.status = D.Status.DONE
        document.error = ""
        document.finished_at = timezone.now()
        document.save()
    return document


def document_mark_failed(*, document_id: str, reason: str) -> None:
    D.objects.filter(pk=document_id).exclude(status=D.Status.DONE).update(
        status=D.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def document_retry(*, actor: User, document: D) -> D:
    """'Try again' after a failure: the same document, queued again."""
    if document.requested_by_id != actor.pk:
        raise NotAllowed("Only the person who asked for this document can retry it.")
    with transaction.atomic():
        document = D.objects.select_for_update().get(pk=document.pk)
        if document.status != D.Status.FAILED:
            return document
        document.status = D.Status.QUEUED
        document.error = ""
        document.save(update_fields=["status", "error", "updated_at"])
        _enqueue(document)
    return document


STUCK_QUEUED = datetime.timedelta(minutes=10)
STUCK_RUNNING = datetime.timedelta(minutes=40)


def documents_sweep(*, now: datetime.datetime | None = None) -> int:
    """Queue again what a lost broker message or a killed worker left behind."""
    now = now or timezone.now()
    stuck = D.objects.filter(
        status=D.Status.QUEUED, updated_at__lt=now - STUCK_QUEUED
    ) | D.objects.filter(status=D.Status.RUNNING, updated_at__lt=now - STUCK_RUNNING)
    count = 0
    for document in stuck:
        with transaction.atomic():
            D.objects.filter(pk=document.pk).update(status=D.Status.QUEUED, updated_at=now)
            _enqueue(document)
        count += 1
    return count
