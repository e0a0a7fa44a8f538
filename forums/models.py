"""Forums and their meetings, and the decisions recorded against a meeting.

The Creative Solutions Forum's decisions are what allow an agency to leave a
case or a risk to lose an owner: no hand-off happens without one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from csf_portal.models import Agency, TimeStampedModel


class Forum(TimeStampedModel):
    class Kind(models.TextChoices):
        CSF = "csf", "Creative Solutions Forum"
        SOG = "sog", "System Optimisation Group"
        PRACTITIONER = "practitioner", "Practitioner forum"

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Meeting(TimeStampedModel):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        AGENDA_PUBLISHED = "agenda_published", "Agenda published"
        HELD = "held", "Held"
        MINUTES_APPROVED = "minutes_approved", "Minutes approved"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.forum} on {self.starts_at:%-d %B %Y}"


class ForumDecision(TimeStampedModel):
    """A decision recorded against a meeting: who decided, when, why."""

    class Kind(models.TextChoices):
        AGENCY_LEAVES_CASE = "agency_leaves_case", "An agency stops being involved in a case"
        RISK_OWNER_LEAVES = "risk_owner_leaves", "An agency stops owning a risk"
        OTHER = "other", "Other decision"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk = models.ForeignKey(
        "cases.Risk", on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    summary = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.meeting})"
