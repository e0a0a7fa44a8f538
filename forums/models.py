"""Forums, their meetings, agendas, minutes, decisions and actions; system issues.

The Creative Solutions Forum (CSF) discusses cases; the System Optimisation
Group (SOG) takes the system-level problems that case learning exposes. Both
agree actions that their members hold each other to account for. A CSF
decision is what allows an agency to leave a case or a risk to lose an owner:
no hand-off happens without one.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
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

    @property
    def discusses_cases(self) -> bool:
        return self.kind != self.Kind.SOG


class ForumMembership(TimeStampedModel):
    """A standing member: a named person, for their agency."""

    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        MEMBER = "member", "Member"

    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forum_memberships"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(default=datetime.date.today)
    left_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["forum", "agency__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "user"],
                condition=models.Q(left_on__isnull=True),
                name="one_current_membership_per_forum",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.agency}) in {self.forum}"

    @staticmethod
    def sitting(today: datetime.date, prefix: str = "") -> models.Q:
        """Still a member on ``today``: no leaving date, or one still to come (the one
        definition, used by meeting access and by who runs a forum)."""
        return models.Q(**{f"{prefix}left_on__isnull": True}) | models.Q(
            **{f"{prefix}left_on__gt": today}
        )


class Meeting(TimeStampedModel):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        AGENDA_PUBLISHED = "agenda_published", "Agenda published"
        HELD = "held", "Held"
        MINUTES_APPROVED = "minutes_approved", "Minutes approved"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True)
    online_link = models.URLField(max_length=500, blank=True)
    # When and where: a change is checked against the version the editor read.
    details_version = models.PositiveIntegerField(default=1)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    # Invitations and members' access to the cases on the agenda last until then.
    access_ends_at = models.DateTimeField(null=True, blank=True)
    minutes_approved_at = models.DateTimeField(null=True, blank=True)
    minutes_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["forum", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.forum} on {timezone.localtime(self.starts_at):%-d %B %Y}"

    @property
    def minutes_locked(self) -> bool:
        return self.state == self.State.MINUTES_APPROVED

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()


class SystemIssue(TimeStampedModel):
    """A system-level problem for the SOG, escalated from case learning or raised directly."""

    class Theme(models.TextChoices):
        ACCOMMODATION = "accommodation", "Accommodation"
        THRESHOLDS = "thresholds", "Thresholds and complexity"
        DISJOINTED = "disjointed", "Disjointed working"
        MANAGING_RISK = "managing_risk", "Managing risk"
        TIMELY_SUPPORT = "timely_support", "Timely support"
        STRATEGIC = "strategic", "Strategic planning"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        WITH_COMMISSIONERS = "with_commissioners", "Recommended to commissioners"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed without change"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField()
    theme = models.CharField(max_length=20, choices=Theme.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    recommendation = models.TextField(
        blank=True, help_text="For commissioners, when the fix is outside the current system"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_from = models.ForeignKey(
        "AgendaItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="system_issues")
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(m2m_fields=[cases])

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "theme"])]

    def __str__(self) -> str:
        return self.title


class AgendaItem(TimeStampedModel):
    """One item of a meeting's agenda: a case (CSF) or a topic or system issue (SOG)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="items")
    order = models.PositiveSmallIntegerField()
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    topic = models.CharField(max_length=200, blank=True)
    system_issue = models.ForeignKey(
        SystemIssue, on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    starts_at = models.TimeField(null=True, blank=True)
    minutes_allowed = models.PositiveSmallIntegerField(default=20)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes = models.TextField(blank=True)
    minutes_version = models.PositiveIntegerField(default=0)
    # Time, presenter and invited services: a change is checked against the version read.
    settings_version = models.PositiveIntegerField(default=1)
    invited_agencies = models.ManyToManyField(
        Agency, through="Invitation", related_name="agenda_invitations", blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "order"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False)
                | ~models.Q(topic="")
                | models.Q(system_issue__isnull=False),
                name="agenda_item_is_about_something",
            )
        ]
        indexes = [models.Index(fields=["case", "meeting"])]

    def __str__(self) -> str:
        return f"Item {self.order} of {self.meeting}"

    @property
    def heading(self) -> str:
        """What the item is about, without naming a person."""
        if self.topic:
            return self.topic
        if self.system_issue_id:
            return f"System issue: {self.system_issue}"
        return "Case discussion"

    def person_label(self, may_see: bool) -> str:
        """The person's name for those who may see the case; otherwise nothing identifying."""
        if self.case is None:
            return self.heading
        return str(self.case.person) if may_see else "A case you cannot see"


class Invitation(models.Model):
    """A service invited to one case's discussion: time-boxed access to that case."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="invitations")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    # Who was invited to discuss a case, by whom, and when it ended: never lost.
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "agency"], name="one_invitation_per_agency")
        ]
        indexes = [models.Index(fields=["agency", "item"])]

    def __str__(self) -> str:
        return f"{self.agency} invited to {self.item}"


class Attendance(models.Model):
    """Who came (or sent apologies), and for which item; no item means the whole meeting."""

    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        APOLOGIES = "apologies", "Sent apologies"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, null=True, blank=True, related_name="attendance"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PRESENT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agency__name", "user__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user", "item"], name="one_attendance_per_item"
            ),
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=models.Q(item__isnull=True),
                name="one_whole_meeting_attendance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.meeting}"


class MinutesAmendment(models.Model):
    """A correction to approved minutes: the approved text is never rewritten."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="amendments")
    item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    text = models.TextField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["made_at"]

    def __str__(self) -> str:
        return f"Amendment to the minutes of {self.meeting}"


class ForumDecision(TimeStampedModel):
    """A decision recorded against a meeting: who decided, when, why."""

    class Kind(models.TextChoices):
        AGENCY_LEAVES_CASE = "agency_leaves_case", "An agency stops being involved in a case"
        RISK_OWNER_LEAVES = "risk_owner_leaves", "An agency stops owning a risk"
        RISK_CLOSED = "risk_closed", "A risk is closed"
        CARE_PLAN_AGREED = "care_plan_agreed", "The forum agrees a care plan"
        OTHER = "other", "Other decision"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
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
        constraints = [
            # A plan is agreed in the case's discussion (the other case decisions
            # predate this rule; access.forum_decision_allows checks all).
            models.CheckConstraint(
                condition=~models.Q(kind="care_plan_agreed")
                | models.Q(item__isnull=False, case__isnull=False),
                name="care_plan_agreed_on_its_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.meeting})"


class Action(TimeStampedModel):
    """Agreed at a meeting: what, which agency and person own it, by when."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    class Rag(models.TextChoices):
        RED = "red", "Red: overdue"
        AMBER = "amber", "Amber: due soon"
        GREEN = "green", "Green: on track"
        COMPLETE = "complete", "Complete"
        DROPPED = "dropped", "Dropped"

    OPEN_STATES = (Status.OPEN, Status.IN_PROGRESS)
    AMBER_DAYS = 14

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="actions")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="actions")
    item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    system_issue = models.ForeignKey(
        SystemIssue, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    description = models.TextField()
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="actions")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    status_reason = models.TextField(blank=True)
    last_update_note = models.TextField(blank=True)
    last_updated_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "created_at"]
        indexes = [
            models.Index(fields=["owner_agency", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["case", "status"]),
            # The action log's order: a page is read from the index, not sorted (ADR 0006).
            models.Index(fields=["due_on", "created_at"], name="action_log_order"),
        ]

    def __str__(self) -> str:
        return f"Action due {self.due_on:%-d %B %Y}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.is_open and self.due_on < (today or timezone.localdate())

    def rag(self, today: datetime.date | None = None) -> str:
        """Red overdue, amber due within two weeks, green on track; done and dropped apart."""
        today = today or timezone.localdate()
        if self.status == self.Status.DONE:
            return self.Rag.COMPLETE
        if self.status == self.Status.DROPPED:
            return self.Rag.DROPPED
        if self.due_on < today:
            return self.Rag.RED
        if (self.due_on - today).days <= self.AMBER_DAYS:
            return self.Rag.AMBER
        return self.Rag.GREEN

    @property
    def rag_status(self) -> str:
        return self.rag()

    @property
    def rag_label(self) -> str:
        return self.Rag(self.rag()).label

    @property
    def completed_in_time(self) -> bool | None:
        if self.status != self.Status.DONE or self.completed_on is None:
            return None
        return self.completed_on <= self.due_on


class DigestSent(models.Model):
    """One overdue-actions digest per person per week: the weekly task's idempotency key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_starting = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    actions = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week_starting"], name="one_digest_a_week")
        ]

    def __str__(self) -> str:
        return f"Digest for {self.user}, week of {self.week_starting}"
