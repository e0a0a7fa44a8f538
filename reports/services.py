"""Background documents: request (recorded, then queued after commit), generate, fail, sweep.

At-least-once delivery is assumed: generating is idempotent (a finished document
is left alone), and a request while the same one is in hand returns it.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import threading
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

import access
from assessments.selectors import latest_completed
from cases.models import AccommodationStatus, Case, OutcomeReview, Person, Risk
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import AccessEvent, User
from reports.models import GeneratedDocument, UnitCost

if TYPE_CHECKING:
    from cases.models import CarePlan
    from forums.models import Meeting
    from reports.dashboard import Filters

logger = logging.getLogger(__name__)
D = GeneratedDocument


def _enqueue(document: D) -> None:
    """Queue the document once the request is committed. With the broker down the request
    still stands, recorded and queued in the database: the sweep queues it again."""
    from reports.tasks import generate_document

    document_id = str(document.pk)

    def send() -> None:
        from kombu.exceptions import OperationalError

        try:
            generate_document.delay(document_id)
        except (OperationalError, ConnectionError, OSError) as exc:
            logger.warning(
                "Broker unreachable: document %s waits for the sweep (%s)", document_id, exc
            )
            D.objects.filter(pk=document_id, status=D.Status.QUEUED).update(hold=D.Hold.BROKER_DOWN)
        else:
            D.objects.filter(
                pk=document_id, status=D.Status.QUEUED, hold=D.Hold.BROKER_DOWN
            ).update(hold=D.Hold.NONE)

    transaction.on_commit(send)


def _request(*, actor: User, kind: str, key: str, **about: Any) -> D:
    """Record the request, queued, and enqueue it after commit; a request in hand is reused."""
    in_hand = D.objects.filter(request_key=key, status__in=[D.Status.QUEUED, D.Status.RUNNING])
    try:
        with transaction.atomic():
            existing = in_hand.first()
            if existing is not None:
                return existing
            document = D.objects.create(kind=kind, requested_by=actor, request_key=key, **about)
            _enqueue(document)
            return document
    except IntegrityError:  # a simultaneous identical request won the race
        existing = in_hand.first()
        assert existing is not None
        return existing


def subject_access_request(*, actor: User, person: Person, pdf: bool = False) -> D:
    """Ask for everything held about ``person``. The same request twice gives one document."""
    if not access.can_request_subject_access(actor):
        raise NotAllowed("Only a forum chair can make a subject access export.")
    kind = D.Kind.SUBJECT_ACCESS_PDF if pdf else D.Kind.SUBJECT_ACCESS_JSON
    return _request(actor=actor, kind=kind, key=f"{kind}:{person.pk}:{actor.pk}", person=person)


def _meeting_case_ids(meeting: Meeting) -> list[uuid.UUID]:
    from forums.models import AgendaItem

    return list(
        AgendaItem.objects.filter(meeting=meeting, case__isnull=False).values_list(
            "case_id", flat=True
        )
    )


def may_have_meeting_pack(user: User, meeting: Meeting) -> bool:
    """A meeting's members and invitees who may see every case on its agenda now."""
    if not access.meetings_visible_to(user=user).filter(pk=meeting.pk).exists():
        return False
    runs = access.can_run_forum(user, meeting.forum)
    if meeting.state == meeting.State.PLANNED and not runs:
        return False
    case_ids = set(_meeting_case_ids(meeting))
    visible = access.case_ids_visible_among(user=user, case_ids=case_ids)
    return access.can_have_meeting_pack(
        meeting, user=user, runs=runs, case_ids=case_ids, visible_case_ids=visible
    )


def meeting_pack_request(*, actor: User, meeting: Meeting) -> D:
    """A meeting pack prepared for ``actor``: only for someone who may see every case in it."""
    if not may_have_meeting_pack(actor, meeting):
        raise NotAllowed("Only people who may see every case on the agenda get the meeting pack.")
    if not _meeting_case_ids(meeting) and not meeting.items.exists():
        raise DomainError("The agenda is empty: there is nothing to put in a pack yet")
    return _request(
        actor=actor,
        kind=D.Kind.MEETING_PACK,
        key=f"{D.Kind.MEETING_PACK}:{meeting.pk}:{actor.pk}",
        meeting=meeting,
    )


def care_plan_pdf_request(*, actor: User, plan: CarePlan, easy_read: bool = False) -> D:
    """A care plan version as a PDF, for anyone who may see the case."""
    if not access.can_view_case(actor, plan.case):
        raise NotAllowed("You cannot see this case.")
    kind = D.Kind.CARE_PLAN_EASY_READ if easy_read else D.Kind.CARE_PLAN
    return _request(
        actor=actor,
        kind=kind,
        key=f"{kind}:{plan.pk}:{plan.edit_version}:{actor.pk}",
        care_plan=plan,
        person_id=plan.case.person_id,
    )


def outcomes_report_request(*, actor: User, filters: Filters) -> D:
    """The dashboard as a PDF for the period and filters (aggregate figures only)."""
    if not access.can_view_outcomes(actor):
        raise NotAllowed("Only commissioners, forum chairs and SOG members see the outcomes.")
    params = filters.as_params()
    key = f"{D.Kind.OUTCOMES_REPORT}:{actor.pk}:" + ":".join(params.values())
    return _request(actor=actor, kind=D.Kind.OUTCOMES_REPORT, key=key[:200], params=params)


def may_download(user: User, document: D) -> bool:
    """The requester, and only while they may still see everything in it."""
    if document.requested_by_id != user.pk:
        return False
    if document.kind == D.Kind.MEETING_PACK:
        return document.meeting is not None and may_have_meeting_pack(user, document.meeting)
    if document.kind in (D.Kind.CARE_PLAN, D.Kind.CARE_PLAN_EASY_READ):
        return document.care_plan is not None and access.can_view_case(
            user, document.care_plan.case
        )
    if document.kind == D.Kind.OUTCOMES_REPORT:
        return access.can_view_outcomes(user)
    return access.can_request_subject_access(user)


def document_people(document: D) -> list[uuid.UUID]:
    """Whose personal data a document holds: each download is in their access log."""
    if document.kind == D.Kind.MEETING_PACK and document.meeting is not None:
        from cases.models import Case

        return list(
            Case.objects.filter(pk__in=_meeting_case_ids(document.meeting)).values_list(
                "person_id", flat=True
            )
        )
    return [document.person_id] if document.person_id else []


@transaction.atomic
def document_download_record(*, actor: User, document: D, request: HttpRequest) -> None:
    """One access-log row per person whose data the downloaded document holds."""
    sar = (D.Kind.SUBJECT_ACCESS_JSON, D.Kind.SUBJECT_ACCESS_PDF)
    action = AccessEvent.Action.EXPORT if document.kind in sar else AccessEvent.Action.DOWNLOAD
    people: list[uuid.UUID | None] = [*document_people(document)]
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                user=actor,
                agency_id=actor.agency_id,
                action=action,
                object_type="reports.generateddocument",
                object_id=str(document.pk),
                person_id=person_id,
                path=request.get_full_path()[:500],
                reason=document.get_kind_display(),
                ip_address=access.client_ip(request),
            )
            for person_id in (people or [None])
        ]
    )


@transaction.atomic
def unit_cost_update(
    *, actor: User, unit_cost: UnitCost, amount: Decimal, source: str, is_placeholder: bool
) -> UnitCost:
    """An administrator sets the figure behind the dashboard's cost estimates."""
    unit_cost.amount = amount
    unit_cost.source = source
    unit_cost.is_placeholder = is_placeholder
    with acting_as(actor):
        unit_cost.save()
    return unit_cost


def _render(document: D) -> tuple[bytes, str, int | None]:
    from reports import documents
    from reports.pdf import render_pdf

    if document.kind == D.Kind.SUBJECT_ACCESS_JSON:
        from reports import subject_access

        assert document.person is not None
        return subject_access.render_json(document.person), "json", None
    if document.kind == D.Kind.SUBJECT_ACCESS_PDF:
        assert document.person is not None
        html = documents.subject_access_html(
            person=document.person, recipient=document.requested_by
        )
    elif document.kind == D.Kind.MEETING_PACK:
        html = documents.meeting_pack_html(
            meeting=document.meeting, recipient=document.requested_by
        )
    elif document.kind == D.Kind.OUTCOMES_REPORT:
        from reports.outcomes import outcomes_report_html

        html = outcomes_report_html(params=document.params, recipient=document.requested_by)
    elif document.kind in (D.Kind.CARE_PLAN, D.Kind.CARE_PLAN_EASY_READ):
        html = documents.care_plan_html(
            plan=document.care_plan,
            recipient=document.requested_by,
            easy_read=document.kind == D.Kind.CARE_PLAN_EASY_READ,
        )
    else:
        raise ValueError(f"Unknown document kind {document.kind}")
    rendered = render_pdf(html)
    document.render_seconds = rendered.seconds
    return rendered.pdf, "pdf", rendered.pages


def document_generate(*, document_id: str, heartbeat: bool = False) -> D:
    """Produce the document's file. Safe to run again: a finished document is kept.

    ``heartbeat`` (a real worker) renews the document's lease while it renders."""
    with transaction.atomic():
        document = (
            D.objects.select_for_update(of=("self",))
            .select_related("person", "requested_by", "meeting__forum", "care_plan__case__person")
            .get(pk=document_id)
        )
        if document.status == D.Status.DONE:
            return document
        document.status = D.Status.RUNNING
        document.attempts += 1
        document.started_at = timezone.now()
        document.lease_expires_at = document.started_at + _lease()
        document.save(
            update_fields=["status", "attempts", "started_at", "lease_expires_at", "updated_at"]
        )
    with _Heartbeat(document.pk, attempt=document.attempts, beat=heartbeat):
        content, extension, pages = _render(document)
    seconds = document.render_seconds
    with transaction.atomic():
        document = D.objects.select_for_update().get(pk=document_id)
        if document.status == D.Status.DONE:
            return document
        document.page_count = pages
        document.render_seconds = seconds
        name = f"{document.kind}-{document.pk}.{extension}"
        document.file.save(name, ContentFile(content), save=False)
        document.size = len(content)
        document.sha256 = hashlib.sha256(content).hexdigest()
        document.status = D.Status.DONE
        document.error = ""
        document.hold = D.Hold.NONE
        document.lease_expires_at = None
        document.finished_at = timezone.now()
        document.save()
    return document


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CSF_DOCUMENT_LEASE_SECONDS)


class _Heartbeat:
    """While a document renders, renew its lease from a thread of the worker's own.

    A worker that dies (killed, out of memory, the machine gone) stops renewing, the
    lease lapses within CSF_DOCUMENT_LEASE_SECONDS and the sweep queues it again.
    In-process tasks (no broker) need no renewal: the request that renders it is alive.
    """

    def __init__(self, document_id: uuid.UUID, *, attempt: int, beat: bool) -> None:
        self.document_id, self.attempt, self.beat = document_id, attempt, beat
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Heartbeat:
        if self.beat:
            self.thread = threading.Thread(target=self._beat, daemon=True, name="lease")
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _beat(self) -> None:
        from django.db import connection

        interval = settings.CSF_DOCUMENT_LEASE_SECONDS / 4
        try:
            while not self.stop.wait(interval):
                try:
                    D.objects.filter(
                        pk=self.document_id, status=D.Status.RUNNING, attempts=self.attempt
                    ).update(lease_expires_at=timezone.now() + _lease())
                except Exception:  # the database blinked: try again at the next beat
                    logger.warning("Could not renew the lease of document %s", self.document_id)
        finally:
            connection.close()


def document_mark_failed(*, document_id: str, reason: str) -> None:
    D.objects.filter(pk=document_id).exclude(status=D.Status.DONE).update(
        status=D.Status.FAILED,
        error=reason[:2000],
        lease_expires_at=None,
        finished_at=timezone.now(),
    )


def document_retry(*, actor: User, document: D) -> D:
    """'Try again' after a failure: the same document, queued again."""
    if document.requested_by_id != actor.pk:
        raise NotAllowed("Only the person who asked for this document can retry it.")
    with transaction.atomic():
        document = D.objects.select_for_update().get(pk=document.pk)
        if not document_may_retry(document):
            return document
        document.status = D.Status.QUEUED
        document.error = ""
        document.save(update_fields=["status", "error", "updated_at"])
        _enqueue(document)
    return document


STUCK_QUEUED = datetime.timedelta(minutes=10)
# A RUNNING document with no lease (rendered before leases existed) is lost after this.
STUCK_RUNNING = datetime.timedelta(minutes=40)
# "Try again" is offered on a document delayed or retrying for this long.
RETRY_AFTER = datetime.timedelta(minutes=2)
# A document whose worker was lost this many times is failed, not queued again.
MAX_REQUEUES = 3


def document_may_retry(document: D, *, now: datetime.datetime | None = None) -> bool:
    """A failed document; or one delayed or retrying that has waited RETRY_AFTER."""
    if document.status == D.Status.FAILED:
        return True
    waited = (now or timezone.now()) - document.updated_at
    return (
        document.status == D.Status.QUEUED
        and document.hold != D.Hold.NONE
        and waited >= RETRY_AFTER
    )


def documents_sweep(*, now: datetime.datetime | None = None) -> int:
    """Queue again what the broker was down for, what a lost broker message left behind and
    what a lost worker was rendering (its lease lapsed); fail one lost too many times."""
    now = now or timezone.now()
    lost = D.objects.filter(status=D.Status.RUNNING).filter(
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True, updated_at__lt=now - STUCK_RUNNING)
    )
    waiting = D.objects.filter(status=D.Status.QUEUED).filter(
        Q(hold=D.Hold.BROKER_DOWN) | Q(updated_at__lt=now - STUCK_QUEUED)
    )
    count = 0
    for document in lost:
        with transaction.atomic():
            if document.requeues + 1 >= MAX_REQUEUES:
                D.objects.filter(pk=document.pk, status=D.Status.RUNNING).update(
                    status=D.Status.FAILED,
                    lease_expires_at=None,
                    finished_at=now,
                    error="The document service stopped each time it was making this "
                    "document. Try again, or tell your administrator.",
                )
                continue
            D.objects.filter(pk=document.pk, status=D.Status.RUNNING).update(
                status=D.Status.QUEUED,
                hold=D.Hold.WORKER_LOST,
                lease_expires_at=None,
                requeues=document.requeues + 1,
                updated_at=now,
            )
            _enqueue(document)
        count += 1
    for document in waiting:
        with transaction.atomic():
            if document.hold != D.Hold.BROKER_DOWN:
                D.objects.filter(pk=document.pk).update(updated_at=now)
            _enqueue(document)
        count += 1
    return count


# --- outcome reviews: the figures the commissioners' outcome report is built from ---------


@transaction.atomic
def outcome_review_record(
    *,
    actor: User,
    case: Case,
    period_start: datetime.date,
    period_end: datetime.date,
    police_contacts: int,
    ambulance_contacts: int,
    ae_attendances: int,
    unplanned_admissions: int,
    bnb_nights: int,
    accommodation_status: str,
    housing_satisfied: str,
    avoidable: str,
    avoidable_note: str = "",
) -> OutcomeReview:
    if not access.can_contribute_to_case(actor, case):
        raise NotAllowed("Your agency is not involved in this case.")
    if period_end < period_start:
        raise DomainError("The end of the period must be after its start", field="period_end")
    if period_end > timezone.localdate():
        raise DomainError("The period must have ended by today", field="period_end")
    latest = latest_completed(person=case.person)
    review = OutcomeReview(
        case=case,
        period_start=period_start,
        period_end=period_end,
        police_contacts=police_contacts,
        ambulance_contacts=ambulance_contacts,
        ae_attendances=ae_attendances,
        unplanned_admissions=unplanned_admissions,
        bnb_nights=bnb_nights,
        accommodation_status=AccommodationStatus(accommodation_status),
        housing_satisfied=OutcomeReview.Answer(housing_satisfied),
        avoidable=OutcomeReview.Answer(avoidable),
        avoidable_note=avoidable_note,
        risk_levels=[
            {"risk": str(r.pk), "category": r.category, "level": r.level}
            for r in Risk.objects.filter(case=case, status=Risk.Status.OPEN).order_by("created_at")
        ],
        assessment_score=latest.total_score if latest else None,
        recorded_by=actor,
    )
    with acting_as(actor):
        review.save()
    person = case.person
    if person.accommodation_status != accommodation_status:
        person.accommodation_status = accommodation_status
        with acting_as(actor):
            person.save(update_fields=["accommodation_status", "updated_at"])
    access.case_activity_touch(case=case)
    return review
