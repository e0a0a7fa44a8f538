"""Identity (agencies, users, roles) and the audit core (access events)."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from simple_history.models import HistoricalRecords


class TimeStampedModel(models.Model):
    """Shared base: every row knows when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    """Roles of DESIGN §2. Each is an auth group (created by a data migration)."""

    PRACTITIONER = "Practitioner", "Practitioner"
    FORUM_CHAIR = "Forum chair", "Forum chair"
    FORUM_MEMBER = "Forum member", "Forum member"
    SOG_MEMBER = "SOG member", "SOG member"
    COMMISSIONER = "Commissioner", "Commissioner"
    ADMINISTRATOR = "Administrator", "Administrator"


class AgencyKind(models.TextChoices):
    ADULT_SAFEGUARDING = "adult_safeguarding", "Adult safeguarding"
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    POLICE = "police", "Police"
    PROBATION = "probation", "Probation"
    HOSTEL = "hostel", "Hostel provider"
    HOUSING = "housing", "Housing"
    PRIVATE_LANDLORD = "private_landlord", "Private landlord"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse service"
    MENTAL_HEALTH = "mental_health", "Mental health service"
    GP = "gp", "GP practice"
    HOSPITAL = "hospital", "Hospital"
    COMMUNITY_NURSING = "community_nursing", "Community nursing"
    NEURO_REHAB = "neuro_rehab", "Neuro-rehabilitation service"
    REABLEMENT = "reablement", "Reablement service"
    ENVIRONMENTAL_HEALTH = "environmental_health", "Environmental health"
    PUBLIC_HEALTH = "public_health", "Public health"
    COMMUNITY_CONNECTIONS = "community_connections", "Community connections"
    COMMISSIONER = "commissioner", "Commissioner"
    AMBULANCE = "ambulance", "Ambulance service"
    VOLUNTARY = "voluntary", "Voluntary sector"
    USER_CARER_GROUP = "user_carer_group", "Service user and carer group"
    OTHER = "other", "Other"


class Agency(TimeStampedModel):
    """A member organisation. Its auth group carries its object permissions."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=40, choices=AgencyKind.choices)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")
    is_active = models.BooleanField(default=True)
    # Crisis contacts, shown on every case the agency is involved in (a case may name its own).
    phone = models.CharField(
        max_length=40, blank=True, help_text="The duty or team phone, in working hours"
    )
    team_inbox = models.EmailField(blank=True, help_text="A team mailbox, not a person's")
    out_of_hours = models.CharField(
        max_length=300,
        blank=True,
        help_text="Who to call out of hours, and how: for example 'Emergency Duty Team, 0300 …'",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Belongs to one agency (administrators may have none)."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    job_title = models.CharField(max_length=150, blank=True)
    # Role changes are recorded as ``RoleChange`` rows by the one service that writes
    # them, and each gives a row here naming the change. Not simple-history's
    # ``m2m_fields``: it fails on a change made from the group's side of the
    # relation (``group.user_set.add``), which must keep working.
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        permissions = [
            ("make_referral", "Can make referrals to the forum"),
            ("triage_referral", "Can triage referrals and chair the forum"),
            ("attend_forum", "Can attend forum meetings as a standing member"),
            ("work_system_issues", "Can see system issues and the SOG action log"),
            ("view_outcomes", "Can see aggregate outcome dashboards"),
            ("administer_portal", "Can administer agencies, users and roles"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_session_auth_hash(self) -> str:
        # A user read from the shared cache carries no password hash, only the
        # hash its sessions are checked against (csf_portal.authz.user_for).
        # Once a password is set on the object, the hash is worked out afresh.
        if "password" not in self.__dict__ and "_csf_session_auth_hash" in self.__dict__:
            return self.__dict__["_csf_session_auth_hash"]
        return super().get_session_auth_hash()

    def role_names(self) -> list[str]:
        """Names of the user's role groups (not agency groups), in DESIGN §2 order."""
        from csf_portal.authz import roles_of

        mine = roles_of(self)
        return [r.label for r in Role if r.value in mine]


class AccessEvent(models.Model):
    """One read of person-level data: who, what, when, why. Append-only."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"
        BREAK_GLASS = "break_glass", "Emergency access (break-glass)"
        EMERGENCY_LOOKUP = "emergency_lookup", "Emergency access look-up"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # No index of its own: "access_user_at" (user, -at) below serves every lookup by
    # user, and each index is one more write on every page that shows a person (ADR 0006).
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="access_events", db_index=False
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.VIEW)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    person_id = models.UUIDField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["person_id", "-at"], name="access_person_at"),
            models.Index(fields=["user", "-at"], name="access_user_at"),
            models.Index(fields=["object_type", "object_id"], name="access_object"),
        ]

    def __str__(self) -> str:
        what = f"{self.object_type} {self.object_id}"
        return f"{self.user} {self.action} {what} at {self.at:%Y-%m-%d %H:%M}"


class RoleChange(models.Model):
    """One change to a user's roles or agency, as the chairs see it. Append-only.

    Written by ``csf_portal.services.user_roles_set`` / ``user_agency_set`` in the
    same transaction as the change (which is also in ``User.history``), and by
    ``csf_portal.services.role_change_record`` for a feature app's grants that open
    case data (standing forum membership: ``forums.services.membership_add``).
    """

    class Kind(models.TextChoices):
        ROLE_GRANTED = "role_granted", "Role given"
        ROLE_REMOVED = "role_removed", "Role taken away"
        AGENCY_CHANGED = "agency_changed", "Agency changed"
        FORUM_MEMBERSHIP_ADDED = "membership_added", "Standing forum membership added"
        FORUM_MEMBERSHIP_CHANGED = "membership_changed", "Standing forum membership changed"
        FORUM_MEMBERSHIP_ENDED = "membership_ended", "Standing forum membership ended"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    role = models.CharField(max_length=40, choices=Role.choices, blank=True)
    agency_before = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agency_after = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_bearing = models.BooleanField(
        default=False, help_text="The change can open person-level data to the user."
    )
    # What a feature app's change was, in words (the core knows no feature app's
    # models): for a standing membership, the forum and the seat, "CSF (chair)".
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def description(self) -> str:
        if self.kind == self.Kind.AGENCY_CHANGED:
            before = self.agency_before.name if self.agency_before else "no agency"
            after = self.agency_after.name if self.agency_after else "no agency"
            return f"Agency changed from {before} to {after}"
        if self.detail:
            return f"{self.get_kind_display()}: {self.detail}"
        return f"{self.get_kind_display()}: {self.get_role_display()}"


class Notification(models.Model):
    """An in-app message to one user (also emailed when it matters)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.text


class AccountSignInFailures(models.Model):
    """Failed sign-ins for one username from any address, kept in the database so the
    per-account back-off holds with Redis down. Recorded for unknown usernames too."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "account sign-in failures"

    def __str__(self) -> str:
        return f"{self.username}: {self.failures}"


class EnrolmentCode(models.Model):
    """A one-time code an administrator gives a user to set up their authenticator app, so
    that a password alone never lets anyone claim an account's second factor.

    Only a hash is kept (the code is shown once, to the administrator who issued it); it
    works once, within ``CSF_ENROLMENT_CODE_HOURS`` (72), and is void after five wrong tries.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=255)
    issued_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"Enrolment code for {self.user_id} issued {self.issued_at:%Y-%m-%d %H:%M}"
