"""Documents the portal produces in the background, recorded before they are queued."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from cases.models import Person
from csf_portal.models import TimeStampedModel


class GeneratedDocument(TimeStampedModel):
    class Kind(models.TextChoices):
        SUBJECT_ACCESS_JSON = "subject_access_json", "Subject access export (JSON)"
        SUBJECT_ACCESS_PDF = "subject_access_pdf", "Subject access export (PDF)"
        MEETING_PACK = "meeting_pack", "Meeting pack"
        CARE_PLAN = "care_plan", "Care plan"
        CARE_PLAN_EASY_READ = "care_plan_easy_read", "Care plan (easy read)"
        OUTCOMES_REPORT = "outcomes_report", "Outcomes report"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being produced"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Hold(models.TextChoices):
        """Why a document in hand is waiting longer than usual, for its status page."""

        NONE = "", "On time"
        BROKER_DOWN = "broker_down", "Delayed: the document service could not be reached"
        WORKER_LOST = "worker_lost", "Retrying: the document service stopped while making it"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    meeting = models.ForeignKey(
        "forums.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    care_plan = models.ForeignKey(
        "cases.CarePlan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="documents"
    )
    request_key = models.CharField(max_length=200, db_index=True)
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="The period and filters")
    render_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    hold = models.CharField(max_length=20, choices=Hold.choices, default=Hold.NONE, blank=True)
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Renewed by the worker rendering it; lapsed means lost"
    )
    requeues = models.PositiveSmallIntegerField(
        default=0, help_text="Times queued again after its worker was lost"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The same request twice while one is in hand does not make two documents.
            models.UniqueConstraint(
                fields=["request_key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_document_in_hand_per_request",
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="document_sweep")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_pdf(self) -> bool:
        return self.kind != self.Kind.SUBJECT_ACCESS_JSON

    @property
    def about(self) -> str:
        """What the document is about, for its status page (the requester may see it)."""
        if self.meeting_id:
            return str(self.meeting)
        if self.care_plan_id and self.care_plan is not None:
            return f"{self.care_plan.case.person}, version {self.care_plan.version}"
        if self.kind == self.Kind.OUTCOMES_REPORT:
            return f"{self.params.get('start', '')} to {self.params.get('end', '')}"
        return str(self.person) if self.person_id else ""

    @property
    def in_hand(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class UnitCost(models.Model):
    """What one emergency contact or B&B night costs, for the dashboard's cost estimates.

    Seeded with clearly-labelled placeholders that an administrator replaces with
    the area's own figures.
    """

    class Item(models.TextChoices):
        POLICE = "police", "Police contact"
        AMBULANCE = "ambulance", "Ambulance call-out"
        AE = "ae", "A&E attendance"
        ADMISSION = "admission", "Unplanned hospital admission"
        BNB_NIGHT = "bnb_night", "Night in B&B or emergency accommodation"

    item = models.CharField(max_length=20, choices=Item.choices, unique=True)
    amount = models.DecimalField(max_digits=9, decimal_places=2, help_text="Pounds")
    source = models.CharField(max_length=300, help_text="Where the figure comes from")
    is_placeholder = models.BooleanField(
        default=True, help_text="Untick once the amount is the area's own sourced figure"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["item"]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: £{self.amount}"
