"""People and the forum's cases.

The foundation holds only what the access-control core needs: who the person
is, the case, the guardian permission rows on cases (a direct foreign key, so
no orphaned generic rows can grant access to a later object), and the
denormalised visibility table that case lists are filtered through.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase
from simple_history.models import HistoricalRecords

from csf_portal.models import Agency, TimeStampedModel


class MeamDomain(models.TextChoices):
    """The four domains of multiple exclusion (MEAM)."""

    HOMELESSNESS = "homelessness", "Homelessness"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    OFFENDING = "offending", "Offending"
    MENTAL_HEALTH = "mental_health", "Mental ill-health"


class Gender(models.TextChoices):
    WOMAN = "woman", "Woman"
    MAN = "man", "Man"
    NON_BINARY = "non_binary", "Non-binary"
    OTHER = "other", "In another way"
    NOT_KNOWN = "not_known", "Not known or prefers not to say"


class AccommodationStatus(models.TextChoices):
    OWN_TENANCY = "own_tenancy", "Own or rented tenancy"
    SUPPORTED = "supported", "Supported accommodation"
    HOSTEL = "hostel", "Hostel"
    EMERGENCY = "emergency", "B&B or other emergency accommodation"
    SOFA_SURFING = "sofa_surfing", "Sofa surfing"
    NO_FIXED_ABODE = "no_fixed_abode", "No fixed abode or rough sleeping"
    HOSPITAL = "hospital", "In hospital"
    CUSTODY = "custody", "In custody"
    OTHER = "other", "Other or not known"


class RiskCategory(models.TextChoices):
    """Risk taxonomy, from the forum's typical risks."""

    SUICIDE = "suicide", "Suicide"
    SELF_HARM = "self_harm", "Self-harm"
    ACCIDENTAL_OVERDOSE = "accidental_overdose", "Accidental overdose"
    BLOOD_BORNE_VIRUS = "blood_borne_virus", "Blood-borne virus infection"
    LIVER_DAMAGE = "liver_damage", "Liver damage"
    SELF_NEGLECT = "self_neglect", "Self-neglect"
    VIOLENCE_VICTIM = "violence_victim", "Violence (as victim)"
    VIOLENCE_PERPETRATOR = "violence_perpetrator", "Violence (as perpetrator)"
    EATING_DISORDER = "eating_disorder", "Eating disorder"
    EXPLOITATION = "exploitation", "Exploitation"
    HATE_CRIME = "hate_crime", "Hate crime"
    RISK_TO_STAFF = "risk_to_staff", "Risk to staff"
    RISK_TO_PUBLIC = "risk_to_public", "Risk to the public"
    EVICTION = "eviction", "Eviction or loss of accommodation"
    PHYSICAL_HEALTH = "physical_health", "Unmanaged physical health condition"
    OTHER = "other", "Other"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    VERY_HIGH = "very_high", "Very high"


class Person(TimeStampedModel):
    """The adult the work is about."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    other_names = models.CharField(
        max_length=300, blank=True, help_text="Aliases and previous names, comma-separated"
    )
    date_of_birth = models.DateField(null=True, blank=True, db_index=True)
    nhs_number = models.CharField(max_length=10, blank=True, db_index=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    accommodation_status = models.CharField(
        max_length=30, choices=AccommodationStatus.choices, blank=True
    )
    gp_practice = models.CharField(max_length=200, blank=True)
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

    class ClosureOutcome(models.TextChoices):
        RISK_REDUCED = "risk_reduced", "Risk reduced"
        RISK_UNCHANGED = "risk_unchanged", "Risk unchanged"
        RISK_INCREASED = "risk_increased", "Risk increased"
        LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
        DIED = "died", "Died"
        MOVED_AWAY = "moved_away", "Moved away"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(max_length=20, choices=State.choices, default=State.AWAITING_FORUM)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_outcome = models.CharField(max_length=30, choices=ClosureOutcome.choices, blank=True)
    times_reopened = models.PositiveIntegerField(
        default=0, help_text="Each reopening on a new referral is a repeat referral"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Case for {self.person}"


class CaseAgency(TimeStampedModel):
    """An agency's involvement in a case. Leaving needs a forum decision (no hand-offs)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="involvements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=200, blank=True)
    named_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    left_by_decision = models.ForeignKey(
        "forums.ForumDecision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # How to reach the agency on this case in a crisis; each blank one is the agency's own.
    work_phone = models.CharField(
        max_length=40, blank=True, help_text="The named worker's or team's phone for this case"
    )
    team_inbox = models.EmailField(blank=True)
    out_of_hours = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "agency"],
                condition=models.Q(left_at__isnull=True),
                name="one_current_involvement_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} in {self.case}"

    # The crisis contacts shown: this case's own, else the agency's.
    @property
    def contact_phone(self) -> str:
        return self.work_phone or self.agency.phone

    @property
    def contact_inbox(self) -> str:
        return self.team_inbox or self.agency.team_inbox

    @property
    def contact_out_of_hours(self) -> str:
        return self.out_of_hours or self.agency.out_of_hours


class NamedWorkerChange(models.Model):
    """Each change of an involved agency's named worker on a case: who, from when, and why.

    The first naming is a change from nobody. Appended, never edited: the list is the
    history of who the worker was."""

    involvement = models.ForeignKey(
        CaseAgency, on_delete=models.PROTECT, related_name="worker_changes"
    )
    worker_before = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    worker_after = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_on = models.DateField(help_text="The day the new worker took over")
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_on", "recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.involvement_id}: worker {self.worker_after_id} from {self.changed_on}"


class Risk(TimeStampedModel):
    """A risk on a case, owned jointly by one or more agencies."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="risks")
    category = models.CharField(max_length=40, choices=RiskCategory.choices)
    level = models.CharField(max_length=20, choices=RiskLevel.choices)
    level_at_referral = models.CharField(max_length=20, choices=RiskLevel.choices, blank=True)
    description = models.TextField(blank=True)
    mitigations = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    version = models.PositiveIntegerField(
        default=1, help_text="Raised on every change, so concurrent edits are detected"
    )
    # Set when the risk is closed (by a forum decision, or by all its owners agreeing);
    # cleared when it is reopened. The history keeps every closure.
    closed_at = models.DateTimeField(null=True, blank=True)
    level_at_closure = models.CharField(max_length=20, choices=RiskLevel.choices, blank=True)
    closure_reason = models.TextField(blank=True)
    closed_by_decision = models.ForeignKey(
        "forums.ForumDecision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False)
                & ~models.Q(level_at_closure=""),
                name="risk_closed_with_its_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_level_display()})"


class RiskClosureAgreement(models.Model):
    """One owning agency's agreement that a risk can close, at a level and for a reason.

    It counts only while the risk is as it was when agreed (``risk_version``): any change
    to the risk, its closing or its reopening, asks every owner afresh.
    """

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="closure_agreements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField()
    risk_version = models.PositiveIntegerField()
    level = models.CharField(max_length=20, choices=RiskLevel.choices)
    reason = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk", "agency", "risk_version"], name="one_closure_agreement_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} agrees to close {self.risk_id}"


class RiskLevelChange(models.Model):
    """Each level a risk has had, so 'at referral' and 'now' can always be compared."""

    class Event(models.TextChoices):
        LEVEL = "", "Level set"
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Reopened"

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="level_changes")
    level = models.CharField(max_length=20, choices=RiskLevel.choices)
    event = models.CharField(max_length=10, choices=Event.choices, blank=True, default="")
    reason = models.TextField(blank=True, help_text="Why it was closed or reopened")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.risk_id}: {self.level} at {self.changed_at:%Y-%m-%d}"


class RiskOwner(TimeStampedModel):
    """An agency's accepted share of a risk, accepted by a named person of that agency."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="owners")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_decision = models.ForeignKey(
        "forums.ForumDecision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["accepted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk", "agency"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_ownership_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} owns {self.risk}"


class HandOffAttempt(models.Model):
    """An attempt to hand off that the portal refused: data for the forum and commissioners."""

    class Kind(models.TextChoices):
        LEAVE_CASE = "leave_case", "Tried to stop being involved in the case"
        LEAVE_RISK = "leave_risk", "Tried to give up the last ownership of a risk"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="handoff_attempts")
    risk = models.ForeignKey(
        Risk, on_delete=models.PROTECT, null=True, blank=True, related_name="handoff_attempts"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.agency}"


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian object permission on a case, granted to an agency's group."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class CaseVisibility(models.Model):
    """One row per (agency, case) an agency may see: the index case lists use.

    Written only by ``access`` in the same transaction as the
    guardian permission it mirrors.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visibility")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    last_activity_at = models.DateTimeField()
    granted_at = models.DateTimeField(auto_now_add=True)
    covered_from = models.DateField(
        help_text="First day of the coverage window (it may start later than today)"
    )
    covered_until = models.DateField(
        help_text="Last day the consent or sharing basis covering this agency is current"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "case"], name="case_visibility_unique"),
        ]
        indexes = [
            models.Index(
                fields=["agency", "-last_activity_at", "case"], name="case_visibility_recent"
            ),
            models.Index(fields=["agency", "person"], name="case_visibility_person"),
            # Counting an agency's list reads this index alone (ADR 0006).
            models.Index(
                fields=["agency", "covered_until", "covered_from"], name="case_visibility_covered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} may see {self.case_id}"


class BreakGlassAccess(models.Model):
    """Emergency access by one practitioner to a case they cannot normally see.

    Time-boxed, with a reason, logged, shown on the case, and reviewed by the chair.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "case", "expires_at"], name="break_glass_active")]

    def __str__(self) -> str:
        return f"Emergency access by {self.user} to {self.case_id}"


class CarePlan(TimeStampedModel):
    """One version of a case's care plan: draft, agreed at a meeting, then superseded."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        AGREED = "agreed", "Agreed"
        SUPERSEDED = "superseded", "Superseded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="care_plans")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    summary = models.TextField(blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_meeting = models.ForeignKey(
        "forums.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    edit_version = models.PositiveIntegerField(
        default=1, help_text="Raised on every change to the draft, so concurrent edits are caught"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="care_plan_version"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="draft"), name="one_draft_care_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"Care plan v{self.version} ({self.get_state_display()})"


class CarePlanItem(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="items")
    what = models.TextField()
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    named_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_when = models.DateField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.what[:60]

    def key(self) -> tuple[str, int]:
        return (" ".join(self.what.split()).lower(), self.agency_id)


class OutcomeReview(TimeStampedModel):
    """A review of how the person is doing over a period: the evidence commissioners see."""

    class Answer(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNSURE = "unsure", "Not sure or not asked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outcome_reviews")
    period_start = models.DateField()
    period_end = models.DateField()
    police_contacts = models.PositiveIntegerField(default=0)
    ambulance_contacts = models.PositiveIntegerField(default=0)
    ae_attendances = models.PositiveIntegerField(default=0)
    unplanned_admissions = models.PositiveIntegerField(default=0)
    bnb_nights = models.PositiveIntegerField(default=0)
    accommodation_status = models.CharField(max_length=30, choices=AccommodationStatus.choices)
    housing_satisfied = models.CharField(max_length=10, choices=Answer.choices)
    risk_levels = models.JSONField(
        default=list, help_text="Each open risk's category and level at the review"
    )
    assessment_score = models.IntegerField(null=True, blank=True)
    avoidable = models.CharField(
        max_length=10,
        choices=Answer.choices,
        help_text="Could this case have been avoided had services been joined up?",
    )
    avoidable_note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_end", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="review_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"Outcome review to {self.period_end:%d %b %Y}"

    @property
    def emergency_contacts(self) -> int:
        return (
            self.police_contacts
            + self.ambulance_contacts
            + self.ae_attendances
            + self.unplanned_admissions
        )
