"""Referrals to the Creative Solutions Forum and their triage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from cases.models import AccommodationStatus, Case, Gender, Person, RiskCategory, RiskLevel
from csf_portal.models import Agency, TimeStampedModel


class ReferralReason(models.Model):
    """The referral reasons taxonomy (seeded from the forum's own list)."""

    code = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    is_other = models.BooleanField(default=False, help_text="Asks for a description")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class Referral(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REDIRECTED = "redirected", "Redirected"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine: the next forum with space"
        URGENT = "urgent", "Urgent: the next forum"
        IMMEDIATE = "immediate", "Immediate risk to life: the chair should contact me today"

    class LawfulBasis(models.TextChoices):
        CONSENT = "consent", "The person has given consent"
        SAFEGUARDING = "safeguarding", "Safeguarding duty (Care Act 2014, section 42)"
        VITAL_INTERESTS = "vital_interests", "Vital interests: to protect the person's life"
        CRIME = "crime", "Prevention or detection of crime"

    class ConsentMethod(models.TextChoices):
        WRITTEN = "written", "In writing"
        VERBAL = "verbal", "Verbally, recorded by me"

    class IdentityDecision(models.TextChoices):
        SAME = "same", "The same person as an existing record"
        NEW = "new", "A new person"

    class RedirectDestination(models.TextChoices):
        PRACTITIONER_FORUM = "practitioner_forum", "The practitioner forum"
        NAMED_SERVICE = "named_service", "A named service"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals"
    )
    referring_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    # Linked only when the identifiers agree (cases.matching.identifiers_agree), and
    # final only once the chair confirms it at acceptance (identity_decision).
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    proposed_person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Someone already known with this NHS number whose name or date of birth "
        "do not agree: for the chair to compare, never linked without the chair",
    )
    identity_decision = models.CharField(
        max_length=10,
        choices=IdentityDecision.choices,
        blank=True,
        help_text="The chair's decision at acceptance: who this referral is about",
    )

    # The person, as the referrer knows them
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    other_names = models.CharField(max_length=300, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    nhs_number = models.CharField(max_length=10, blank=True, db_index=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    accommodation_status = models.CharField(
        max_length=30, choices=AccommodationStatus.choices, blank=True
    )
    gp_practice = models.CharField(max_length=200, blank=True)
    match_key = models.CharField(
        max_length=40, blank=True, db_index=True, help_text="Date of birth and phonetic surname"
    )

    # Why the forum
    meam_homelessness = models.BooleanField(default=False)
    meam_substance_misuse = models.BooleanField(default=False)
    meam_offending = models.BooleanField(default=False)
    meam_mental_health = models.BooleanField(default=False)
    reasons = models.ManyToManyField(ReferralReason, blank=True, related_name="+")
    reason_other = models.CharField(max_length=500, blank=True)
    services_involved = models.ManyToManyField(Agency, blank=True, related_name="+")
    tried_so_far = models.TextField(blank=True)
    hoped_outcome = models.TextField(blank=True)
    urgency = models.CharField(max_length=20, choices=Urgency.choices, blank=True)

    # Lawful basis for sharing
    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis.choices, blank=True)
    consent_method = models.CharField(max_length=20, choices=ConsentMethod.choices, blank=True)
    consent_given_on = models.DateField(null=True, blank=True)
    consent_person_informed = models.BooleanField(default=False)
    basis_justification = models.TextField(blank=True)
    sharing_all_members = models.BooleanField(default=False)
    sharing_agencies = models.ManyToManyField(Agency, blank=True, related_name="+")

    # Lifecycle
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.TextField(blank=True)
    redirect_destination = models.CharField(
        max_length=30, choices=RedirectDestination.choices, blank=True
    )
    redirect_service = models.CharField(max_length=200, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person's latest common core assessment, attached instead of retyped",
    )
    is_repeat = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="referral_queue"),
            models.Index(fields=["referring_agency", "-updated_at"], name="referral_agency"),
            # My work counts an agency's drafts and waiting referrals among all it has sent.
            models.Index(fields=["referring_agency", "state"], name="referral_agency_state"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.short_ref} for {self.person_name or 'a person not yet named'}"

    @property
    def short_ref(self) -> str:
        return str(self.id)[:8].upper()

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def meam_domains(self) -> list[str]:
        from cases.models import MeamDomain

        flags = {
            MeamDomain.HOMELESSNESS: self.meam_homelessness,
            MeamDomain.SUBSTANCE_MISUSE: self.meam_substance_misuse,
            MeamDomain.OFFENDING: self.meam_offending,
            MeamDomain.MENTAL_HEALTH: self.meam_mental_health,
        }
        return [d.label for d, on in flags.items() if on]

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.DRAFT, self.State.SUBMITTED)


class ReferralRisk(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="risks")
    category = models.CharField(max_length=40, choices=RiskCategory.choices)
    level = models.CharField(max_length=20, choices=RiskLevel.choices)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_level_display()})"
