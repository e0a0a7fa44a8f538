"""Common core confidentiality: one consent, and the lawful bases for sharing without it.

Access to a person's data (``access``) needs a *current* consent record
or sharing basis that covers the agency, as well as the agency's involvement.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases.models import Person
from csf_portal.models import Agency, TimeStampedModel


class ConsentPurpose(models.TextChoices):
    REFERRAL = "referral", "Referral to the Creative Solutions Forum"
    CARE_PLANNING = "care_planning", "Multi-agency care planning"
    SAFEGUARDING = "safeguarding", "Safeguarding"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", "In writing"
    VERBAL = "verbal", "Verbally, recorded by the practitioner"


class CapacityOutcome(models.TextChoices):
    HAS_CAPACITY = "has_capacity", "Has capacity to decide about sharing"
    LACKS_CAPACITY = "lacks_capacity", "Lacks capacity: best-interests decision recorded"
    NOT_IN_DOUBT = "not_in_doubt", "Capacity was not in doubt"


class ConsentQuerySet(models.QuerySet):
    """Where "current consent" is decided: the only place (issue 25)."""

    def current_or_future(self, today: datetime.date | None = None) -> ConsentQuerySet:
        """Not withdrawn, and its review date not yet passed (it may start later)."""
        today = today or timezone.localdate()
        return self.filter(withdrawn_at__isnull=True, review_date__gte=today)

    def current(self, today: datetime.date | None = None) -> ConsentQuerySet:
        """Given on or before ``today``, not withdrawn, review date not passed."""
        today = today or timezone.localdate()
        return self.current_or_future(today).filter(given_on__lte=today)


class ConsentRecord(TimeStampedModel):
    """A person's common core confidentiality agreement.

    Current from when it is given until it is withdrawn or its review date
    passes without a new agreement.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    what_may_be_shared = models.TextField(
        default="Information needed for the forum's work: assessments, risks, care plans"
    )
    all_member_agencies = models.BooleanField(default=False)
    agencies = models.ManyToManyField(Agency, blank=True, related_name="+")
    purposes = models.JSONField(default=list)
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    given_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    capacity_considered = models.BooleanField(default=False)
    capacity_outcome = models.CharField(max_length=30, choices=CapacityOutcome.choices)
    persons_own_words = models.TextField(blank=True)
    review_date = models.DateField()
    review_reminder_sent_on = models.DateField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_note = models.TextField(blank=True)
    history = HistoricalRecords(m2m_fields=[agencies])

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_on", "-created_at"]
        indexes = [models.Index(fields=["person", "withdrawn_at", "review_date"])]

    def __str__(self) -> str:
        return f"Consent of {self.person} given {self.given_on:%d %b %Y}"

    def is_current(self, today: datetime.date | None = None) -> bool:
        """One query; lists read ``ConsentRecord.objects.current()`` once instead."""
        return ConsentRecord.objects.current(today).filter(pk=self.pk).exists()

    def purpose_labels(self) -> list[str]:
        return [ConsentPurpose(p).label for p in self.purposes if p in ConsentPurpose.values]


class SharingBasisQuerySet(models.QuerySet):
    """Where "current sharing basis" is decided: the only place (issue 25).

    Only an approved basis counts: a request waiting for a chair, or refused,
    covers no one.
    """

    def current_or_future(self, today: datetime.date | None = None) -> SharingBasisQuerySet:
        """Approved, not ended early, its end date not yet passed (it may start later)."""
        today = today or timezone.localdate()
        return self.filter(
            status=SharingBasis.Status.APPROVED, ended_at__isnull=True, ends_on__gte=today
        )

    def current(self, today: datetime.date | None = None) -> SharingBasisQuerySet:
        today = today or timezone.localdate()
        return self.current_or_future(today).filter(starts_on__lte=today)

    def pending(self) -> SharingBasisQuerySet:
        return self.filter(status=SharingBasis.Status.PENDING)


class SharingBasis(TimeStampedModel):
    """A lawful basis for sharing without consent: requested, then approved or refused.

    It takes effect only once a second, eligible person (a forum chair who did not
    request it, ``access.can_approve_sharing_basis``) approves it in their own
    session; until then it is pending and covers no one. Time-limited.
    """

    class Basis(models.TextChoices):
        SAFEGUARDING = "safeguarding", "Safeguarding duty (Care Act 2014, section 42)"
        VITAL_INTERESTS = "vital_interests", "Vital interests: to protect the person's life"
        CRIME = "crime", "Prevention or detection of crime"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="sharing_bases")
    basis = models.CharField(max_length=30, choices=Basis.choices)
    justification = models.TextField()
    all_member_agencies = models.BooleanField(default=False)
    agencies = models.ManyToManyField(Agency, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approver_role = models.CharField(max_length=150, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refused_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lapse_reminder_sent_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[agencies])

    objects = SharingBasisQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-created_at"]
        verbose_name_plural = "sharing bases"
        indexes = [
            models.Index(fields=["person", "ended_at", "ends_on"]),
            models.Index(fields=["status", "requested_at"], name="sharing_basis_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="sharing_basis_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="sharing_basis_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused")
                | models.Q(refused_by__isnull=False, refused_at__isnull=False),
                name="sharing_basis_refused_has_refuser",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} for {self.person} until {self.ends_on:%d %b %Y}"

    def is_current(self, today: datetime.date | None = None) -> bool:
        """One query; lists read ``SharingBasis.objects.current()`` once instead."""
        return SharingBasis.objects.current(today).filter(pk=self.pk).exists()
