"""Writes for identity: agencies, users, roles and authenticator enrolment."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal.errors import DomainError, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Agency, Role, RoleChange, User

AGENCY_GROUP_PREFIX = "agency:"


def _acting(actor: User | None) -> AbstractContextManager[None]:
    """History in the block names ``actor``; with ``actor=None`` (seed data) it names no
    one, which the test suite refuses outside ``csf_portal.history.unattributed``."""
    return acting_as(actor) if actor is not None else nullcontext()


#: An agency's crisis contacts (shown on each case it is involved in).
AGENCY_CONTACTS = ("phone", "team_inbox", "out_of_hours")


def _contacts(contacts: dict[str, str]) -> dict[str, str]:
    unknown = set(contacts) - set(AGENCY_CONTACTS)
    if unknown:
        raise TypeError(f"Not an agency contact: {', '.join(sorted(unknown))}")
    return {k: (v or "").strip() for k, v in contacts.items()}


@transaction.atomic
def agency_create(
    *, actor: User | None, name: str, kind: str, slug: str = "", **contacts: str
) -> Agency:
    """Create an agency with the auth group its object permissions are granted to.

    ``contacts``: its crisis contacts (``AGENCY_CONTACTS``)."""
    slug = slug or slugify(name)[:80]
    if Agency.objects.filter(slug=slug).exists():
        raise DomainError(f"An agency with the short name “{slug}” already exists", field="slug")
    group = Group.objects.create(name=f"{AGENCY_GROUP_PREFIX}{slug}")
    with _acting(actor):
        return Agency.objects.create(
            name=name, slug=slug, kind=kind, group=group, **_contacts(contacts)
        )


@transaction.atomic
def agency_update(
    *, actor: User | None, agency: Agency, name: str, kind: str, is_active: bool, **contacts: str
) -> Agency:
    """Change an agency; ``contacts`` given (``AGENCY_CONTACTS``) replace its crisis contacts."""
    agency.name = name
    agency.kind = kind
    agency.is_active = is_active
    contacts = _contacts(contacts)
    for key, value in contacts.items():
        setattr(agency, key, value)
    with _acting(actor):
        agency.save(update_fields=["name", "kind", "is_active", *contacts, "updated_at"])
    return agency


# --- users, roles and agencies -------------------------------------------------
#
# Separation of duties (DESIGN §2: administrators never see case content):
#
# * nobody changes their own roles, agency, staff/superuser status or active state;
# * the Administrator role and a case-bearing role (``csf_portal.roles.CASE_BEARING_ROLES``)
#   are never held together, so an administrator cannot give case access to an
#   account they sign in with;
# * every role and agency change is in ``User.history`` (groups included) and in
#   ``RoleChange``, and the forum chairs are told of every case-bearing grant.
#
# ``actor=None`` is the system itself (seed data, management commands).


def user_change_check(
    *,
    actor: User | None,
    user: User | None,
    roles: Iterable[Role | str] | None = None,
    agency: Agency | object | None = ...,
    is_active: bool | None = None,
) -> None:
    """Raise ``NotAllowed`` if ``actor`` may not make this change to ``user``.

    ``user`` None: an account being created. Arguments left out are not being changed.
    The admin form asks this first to show the refusal on the page; the services
    that write ask it again inside their transaction.
    """
    from csf_portal.roles import CASE_BEARING_ROLES

    if roles is not None:
        wanted = {str(r) for r in roles}
        unknown = wanted - set(Role.values)
        if unknown:
            raise DomainError(f"Unknown role: {', '.join(sorted(unknown))}", field="roles")
        if Role.ADMINISTRATOR.value in wanted and wanted & CASE_BEARING_ROLES:
            raise NotAllowed(
                "An administrator cannot also be a practitioner, forum chair, forum member or "
                "SOG member: administrators never see case content. Use a separate account.",
                field="roles",
            )
    if actor is None or user is None or actor.pk != user.pk:
        return
    current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    if roles is not None and {str(r) for r in roles} != current:
        raise NotAllowed(
            "You cannot change your own roles. Ask another administrator.", field="roles"
        )
    if agency is not ... and getattr(agency, "pk", None) != user.agency_id:
        raise NotAllowed(
            "You cannot change your own agency. Ask another administrator.", field="agency"
        )
    if is_active is not None and is_active != user.is_active:
        raise NotAllowed(
            "You cannot switch your own account on or off. Ask another administrator.",
            field="is_active",
        )


def _chairs_told(*, actor: User | None, changes: list[RoleChange]) -> None:
    """Tell every forum chair of a case-bearing grant (not the system's own seeding)."""
    from csf_portal.notifications import notification_send

    granted = [c for c in changes if c.case_bearing]
    if actor is None or not granted:
        return
    chairs = User.objects.filter(is_active=True, groups__name=Role.FORUM_CHAIR.value).exclude(
        pk__in=[actor.pk, granted[0].user_id]
    )
    whose = granted[0].user
    what = "; ".join(c.description for c in granted)
    for chair in chairs.distinct():
        notification_send(
            user=chair,
            text=f"{actor} changed {whose}'s access: {what}.",
            email_subject="CSF Portal: a user was given access to case data",
        )


@transaction.atomic
def role_change_record(
    *,
    actor: User | None,
    user: User,
    kind: RoleChange.Kind,
    detail: str,
    case_bearing: bool,
) -> RoleChange:
    """Record a feature app's change to what ``user`` may see; tell the chairs of a grant.

    For writes outside this module that give or take away access to case data as a
    role does (a standing forum membership): the same ``RoleChange`` row and the same
    message to the chairs as ``user_roles_set`` gives. The caller writes the change
    itself, in the same transaction.
    """
    change = RoleChange.objects.create(
        actor=actor, user=user, kind=kind, detail=detail[:200], case_bearing=case_bearing
    )
    _chairs_told(actor=actor, changes=[change])
    return change


def _history_of(user: User, actor: User | None, reason: str) -> None:
    """One row in ``User.history`` for this change, with the groups now held."""
    user._change_reason = reason  # type: ignore[attr-defined]
    with _acting(actor):
        user.save(update_fields=["is_staff", "agency", "is_active"])
    del user._change_reason  # type: ignore[attr-defined]


@transaction.atomic
def user_roles_set(*, actor: User | None, user: User, roles: Iterable[Role | str]) -> None:
    """Replace the user's role groups, leaving any other group untouched.

    The one place roles are written. Refuses a change to one's own roles and the
    Administrator role together with a case-bearing one; records the change in
    history and ``RoleChange``; tells the chairs of a case-bearing grant.
    """
    from csf_portal.roles import CASE_BEARING_ROLES

    wanted = {str(r) for r in roles}
    user_change_check(actor=actor, user=user, roles=wanted)
    role_groups = list(Group.objects.filter(name__in=Role.values))
    if wanted - {g.name for g in role_groups}:
        raise DomainError("The role groups are missing: run `manage.py migrate`")
    current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    added, removed = wanted - current, current - wanted
    is_admin = Role.ADMINISTRATOR.value in wanted
    if not added and not removed and user.is_staff == is_admin:
        return
    # One history row for the whole change (below), not one per add and remove.
    user.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        user.groups.remove(*[g for g in role_groups if g.name in removed])
        user.groups.add(*[g for g in role_groups if g.name in added])
    finally:
        del user.skip_history_when_saving  # type: ignore[attr-defined]
    user.is_staff = is_admin
    order = list(Role.values)
    changes = [
        RoleChange(
            actor=actor,
            user=user,
            kind=RoleChange.Kind.ROLE_GRANTED,
            role=name,
            case_bearing=name in CASE_BEARING_ROLES,
        )
        for name in sorted(added, key=order.index)
    ] + [
        RoleChange(actor=actor, user=user, kind=RoleChange.Kind.ROLE_REMOVED, role=name)
        for name in sorted(removed, key=order.index)
    ]
    RoleChange.objects.bulk_create(changes)
    _history_of(user, actor, "; ".join(c.description for c in changes) or "Staff status")
    _chairs_told(actor=actor, changes=changes)


@transaction.atomic
def user_agency_set(*, actor: User | None, user: User, agency: Agency | None) -> None:
    """Move the user to another agency (or none). A case-bearing change: recorded, chairs told."""
    user_change_check(actor=actor, user=user, agency=agency)
    if (agency.pk if agency else None) == user.agency_id:
        return
    before = Agency.objects.filter(pk=user.agency_id).first() if user.agency_id else None
    user.agency = agency
    change = RoleChange.objects.create(
        actor=actor,
        user=user,
        kind=RoleChange.Kind.AGENCY_CHANGED,
        agency_before=before,
        agency_after=agency,
        case_bearing=agency is not None,
    )
    _history_of(user, actor, change.description)
    _chairs_told(actor=actor, changes=[change])


@transaction.atomic
def user_update(
    *,
    actor: User | None,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    job_title: str,
    agency: Agency | None,
    is_active: bool,
    roles: Iterable[Role | str],
) -> User:
    """An administrator's edit of another user's account (the admin's user form)."""
    roles = {str(r) for r in roles}
    # The row as stored, not as the form left the object: checks compare with it.
    stored = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    user_change_check(actor=actor, user=stored, roles=roles, agency=agency, is_active=is_active)
    stored.first_name, stored.last_name, stored.email = first_name, last_name, email
    stored.job_title, stored.is_active = job_title, is_active
    with _acting(actor):
        stored.save(update_fields=["first_name", "last_name", "email", "job_title", "is_active"])
    user_agency_set(actor=actor, user=stored, agency=agency)
    user_roles_set(actor=actor, user=stored, roles=roles)
    return stored


@transaction.atomic
def user_create(
    *,
    actor: User | None = None,
    username: str,
    password: str | None,
    first_name: str,
    last_name: str,
    email: str,
    agency: Agency | None,
    job_title: str = "",
    roles: Iterable[Role | str] = (),
) -> User:
    """A new account. ``actor`` None: the system (seed data, commands)."""
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"The username “{username}” is already taken", field="username")
    roles = {str(r) for r in roles}
    user_change_check(actor=actor, user=None, roles=roles)
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        job_title=job_title,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    with _acting(actor):
        user.save()
    user_agency_set(actor=actor, user=user, agency=agency)
    user_roles_set(actor=actor, user=user, roles=roles)
    return user


# --- authenticator enrolment --------------------------------------------------


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, created on first use. Idempotent."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_secret_for_display(*, device: TOTPDevice) -> str:
    """The shared secret in the base32 form authenticator apps accept when typed."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@transaction.atomic
def totp_device_confirm(*, user: User, token: str) -> TOTPDevice | None:
    """Confirm the pending authenticator if ``token`` is right; None if not."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("id")
        .first()
    )
    if device is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device


def record_account_sign_in_failure(*, username: str) -> None:
    """Count one failed sign-in for the username, whatever the address; a failure long
    after the last one (beyond the window) starts the count again."""
    from django.conf import settings
    from django.utils import timezone

    from csf_portal.models import AccountSignInFailures

    if not username:
        return
    now = timezone.now()
    with transaction.atomic():
        record, created = AccountSignInFailures.objects.select_for_update().get_or_create(
            username=username.lower()[:150], defaults={"failures": 1, "last_failure_at": now}
        )
        if created:
            return
        if now - record.last_failure_at > settings.CSF_ACCOUNT_FAILURE_WINDOW:
            record.failures = 0
        record.failures += 1
        record.last_failure_at = now
        record.save(update_fields=["failures", "last_failure_at"])


def clear_account_sign_in_failures(*, username: str) -> None:
    """A successful sign-in ends the per-account back-off, whichever addresses failed before."""
    from csf_portal.models import AccountSignInFailures

    AccountSignInFailures.objects.filter(username=username.lower()).delete()


RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new single-use ones, returned to be shown
    once; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- one-time enrolment codes -------------------------------------------------

ENROLMENT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I to misread
ENROLMENT_CODE_LENGTH = 12
ENROLMENT_CODE_MAX_TRIES = 5


def enrolment_code_normalise(code: str) -> str:
    """``abcd efgh-jklm`` → ``ABCDEFGHJKLM``: spaces, hyphens and case do not matter."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def enrolment_code_display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@transaction.atomic
def enrolment_code_issue(*, actor: User | None, user: User) -> str:
    """A new one-time code for ``user`` to set up their authenticator app, returned once
    for the administrator to pass on (by phone or in person, not with the password).

    The user's second factor starts afresh: any authenticator app and recovery codes they
    had stop working, and any earlier code is void. ``actor`` None is the command line.
    """
    import secrets
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from csf_portal.models import EnrolmentCode

    if actor is not None:
        if not actor.has_perm("csf_portal.administer_portal") and not actor.is_superuser:
            raise NotAllowed("Only an administrator can issue an enrolment code.")
        if actor.pk == user.pk:
            raise DomainError(
                "You cannot issue an enrolment code for yourself. Ask another administrator, "
                "or use the manage.py enrolment_code command on the server."
            )
    if not user.is_active:
        raise DomainError(f"{user.username}'s account is switched off: switch it on first.")
    code = "".join(secrets.choice(ENROLMENT_CODE_ALPHABET) for _ in range(ENROLMENT_CODE_LENGTH))
    now = timezone.now()
    EnrolmentCode.objects.filter(user=user).delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    EnrolmentCode.objects.create(
        user=user,
        code_hash=make_password(code),
        issued_by=actor,
        issued_at=now,
        expires_at=now + timedelta(hours=settings.CSF_ENROLMENT_CODE_HOURS),
    )
    return enrolment_code_display(code)


@transaction.atomic
def enrolment_code_redeem(*, user: User, code: str) -> bool:
    """Use up ``user``'s enrolment code if ``code`` is it: True once, then never again.
    A wrong code counts against it; after five the code is void and a new one is needed."""
    from django.contrib.auth.hashers import check_password
    from django.utils import timezone

    from csf_portal.models import EnrolmentCode

    now = timezone.now()
    record = (
        EnrolmentCode.objects.select_for_update()
        .filter(user=user, used_at__isnull=True, expires_at__gt=now)
        .filter(failed_attempts__lt=ENROLMENT_CODE_MAX_TRIES)
        .first()
    )
    if record is None:
        return False
    if not check_password(enrolment_code_normalise(code), record.code_hash):
        record.failed_attempts += 1
        record.save(update_fields=["failed_attempts"])
        return False
    record.used_at = now
    record.save(update_fields=["used_at"])
    return True


# --- passwords ----------------------------------------------------------------


def password_changed_tell(*, user: User) -> None:
    """Tell the account's owner their password changed, so one they did not change is
    noticed. The email names no case and no person."""
    from csf_portal.notifications import email_after_commit

    if not user.email:
        return
    body = (
        f"The password for your CSF Portal account ({user.get_username()}) was changed, "
        "and any other place it was signed in has been signed out.\n\n"
        "If you did not change it, contact your agency's CSF Portal administrator "
        "straight away.\n\nThis is an automatic message."
    )
    email_after_commit(
        subject="Your CSF Portal password was changed", body=body, recipient=user.email
    )


def password_reset_request(*, email: str, base_url: str) -> None:
    """Ask for a reset link to be sent to ``email``. The look-up and the sending happen in
    a worker, so the request takes the same time whether or not an account has that
    address; with the broker down they happen here instead (and are logged)."""
    import logging

    from kombu.exceptions import OperationalError

    from csf_portal.tasks import password_reset_send as task

    try:
        task.delay(email, base_url)
    except (OperationalError, ConnectionError, OSError) as exc:
        logging.getLogger(__name__).warning("Broker unreachable: reset email sent inline (%s)", exc)
        password_reset_send(email=email, base_url=base_url)


def password_reset_send(*, email: str, base_url: str) -> None:
    """Email a one-use reset link to each active account with ``email`` (Django's own
    reset form: its look-up, tokens and templates). Nothing happens for an unknown address."""
    from urllib.parse import urlsplit

    from django.contrib.auth.forms import PasswordResetForm

    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    parts = urlsplit(base_url)
    form.save(
        domain_override=parts.netloc,
        use_https=parts.scheme == "https",
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
    )
