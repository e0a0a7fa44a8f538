"""Writes for identity: agencies, users, roles and authenticator enrolment."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal.errors import DomainError
from csf_portal.models import Agency, Role, User

AGENCY_GROUP_PREFIX = "agency:"


@transaction.atomic
def agency_create(*, name: str, kind: str, slug: str = "") -> Agency:
    """Create an agency with the auth group its object permissions are granted to."""
    slug = slug or slugify(name)[:80]
    if Agency.objects.filter(slug=slug).exists():
        raise DomainError(f"An agency with the short name “{slug}” already exists", field="slug")
    group = Group.objects.create(name=f"{AGENCY_GROUP_PREFIX}{slug}")
    return Agency.objects.create(name=name, slug=slug, kind=kind, group=group)


@transaction.atomic
def agency_update(*, agency: Agency, name: str, kind: str, is_active: bool) -> Agency:
    agency.name = name
    agency.kind = kind
    agency.is_active = is_active
    agency.save(update_fields=["name", "kind", "is_active", "updated_at"])
    return agency


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[Role | str]) -> None:
    """Replace the user's role groups, leaving any other group untouched."""
    wanted = {str(r) for r in roles}
    unknown = wanted - set(Role.values)
    if unknown:
        raise DomainError(f"Unknown role: {', '.join(sorted(unknown))}")
    role_groups = list(Group.objects.filter(name__in=Role.values))
    if wanted - {g.name for g in role_groups}:
        raise DomainError("The role groups are missing: run `manage.py migrate`")
    user.groups.remove(*[g for g in role_groups if g.name not in wanted])
    user.groups.add(*[g for g in role_groups if g.name in wanted])
    is_admin = Role.ADMINISTRATOR.value in wanted
    if user.is_staff != is_admin:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    first_name: str,
    last_name: str,
    email: str,
    agency: Agency | None,
    job_title: str = "",
    roles: Iterable[Role | str] = (),
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"The username “{username}” is already taken", field="username")
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        agency=agency,
        job_title=job_title,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_roles(user=user, roles=roles)
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
