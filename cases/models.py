"""People and the forum's cases.

The foundation holds only what the access-control core needs: who the person
is, the case, the guardian permission rows on cases (a direct foreign key, so
no orphaned generic rows can grant access to a later object), and the
denormalised visibility table that case lists are filtered through.
"""

from __future__ import annotations

import uuid

from django.db import models
from guardian.models import GroupObjectPermissionBase
from simple_history.models import HistoricalRecords

from csf_portal.models import Agency, TimeStampedModel


class Person(TimeStampedModel):
    """The adult the work is about."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    nhs_number = models.CharField(max_length=10, blank=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Case(TimeStampedModel):
    """The forum's work with a person."""

    class State(models.TextChoices):
        AWAITING_FORUM = "awaiting_forum", "Awaiting forum"
        ACTIVE = "active", "Active"
        MONITORING = "monitoring", "Monitoring"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(max_length=20, choices=State.choices, default=State.AWAITING_FORUM)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Case for {self.person}"


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian object permission on a case, granted to an agency's group."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class CaseVisibility(models.Model):
    """One row per (agency, case) an agency may see: the index case lists use.

    Written only by ``csf_portal.access`` in the same transaction as the
    guardian permission it mirrors.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visibility")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    last_activity_at = models.DateTimeField()
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "case"], name="case_visibility_unique"),
        ]
        indexes = [
            models.Index(
                fields=["agency", "-last_activity_at", "case"], name="case_visibility_recent"
            ),
            models.Index(fields=["agency", "person"], name="case_visibility_person"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} may see {self.case_id}"
