"""A user's roles and model permissions, kept in the shared cache between requests.

Every page reads them: the service navigation asks ``has_perm`` for each entry
and ``access`` asks which roles the user holds. Read from the
database, that was three queries on every request (ADR 0006).

Correctness comes first. Each entry is stamped with two *generation* tokens,
read before the database is: one for everybody and one for the user. A change
to a user's groups or own permissions replaces that user's token; a change to
a group's permissions, or to a group or permission itself, replaces the token
for everybody. Each is replaced at once and again when the transaction
commits, so a request that read the old rows just before the commit cannot
store them under the new token. Until it commits, the changing transaction
itself reads the database and keeps nothing: it may yet roll back. An entry is
used only while both tokens are the ones it was stamped with, and while the
user's superuser status is still what it recorded. Entries expire after
``AUTHZ_CACHE_SECONDS`` whatever happens.

The signed-in user's own row (with their agency) and their confirmed
second-factor devices are kept the same way (``user_for``), so a signed-in
request reads nothing from the database before the page's own queries. Saving
or deleting a user or a device replaces that user's token; saving or deleting
an agency replaces everybody's. The cached user carries no password hash: only
the hash its sessions are checked against, which the session itself holds.
Code that changes users with ``QuerySet.update()`` (no signals) must call
``invalidate`` itself.

The cache is used only where it is shared by every web worker (Redis): a
per-process cache could not see another process's changes, so without Redis
every request reads the database, as before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal.models import Agency, Role, User

GENERATION_KEY = "csf:authz:generation"
AUTHZ_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Authz:
    """What a user may do, as the database said when the entry was read."""

    roles: frozenset[str]
    permissions: frozenset[str]
    is_superuser: bool


def _enabled() -> bool:
    return bool(getattr(settings, "CSF_AUTHZ_CACHE", False))


def _user_key(user_pk: Any) -> str:
    return f"csf:authz:user:{user_pk}"


def _identity_key(user_pk: Any) -> str:
    return f"csf:authz:identity:{user_pk}"


def _user_generation_key(user_pk: Any) -> str:
    return f"csf:authz:user-generation:{user_pk}"


def _generation(found: dict[str, Any], key: str) -> str:
    """The token under ``key``; a new one if there is none (first use, or Redis restarted)."""
    token = found.get(key)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
    return token


def _read(user: Any, backend: ModelBackend) -> Authz:
    roles = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    # ModelBackend's own reading (user and group permissions, all of them for a superuser).
    permissions = frozenset(ModelBackend.get_all_permissions(backend, user))
    return Authz(roles=roles, permissions=permissions, is_superuser=user.is_superuser)


def _stamp(found: dict[str, Any], user_pk: Any) -> tuple[str, str]:
    return (_generation(found, GENERATION_KEY), _generation(found, _user_generation_key(user_pk)))


def _current_authz(entry: Any, stamp: tuple[str, str], user: Any) -> Authz | None:
    if entry is not None and entry[0] == stamp and entry[1].is_superuser == user.is_superuser:
        return entry[1]
    return None


def authz_for(user: Any) -> Authz:
    """The active user's roles and permissions: once per user object, from the
    shared cache when it holds a current entry, else from the database."""
    cached = getattr(user, "_csf_authz", None)
    if cached is not None:
        return cached
    backend = ModelBackend()
    if not _enabled() or _uncommitted_change():
        authz = _read(user, backend)
    else:
        key = _user_key(user.pk)
        found = cache.get_many([GENERATION_KEY, _user_generation_key(user.pk), key])
        stamp = _stamp(found, user.pk)
        authz = _current_authz(found.get(key), stamp, user)  # type: ignore[assignment]
        if authz is None:
            authz = _read(user, backend)
            cache.set(key, (stamp, authz), AUTHZ_CACHE_SECONDS)
    user._csf_authz = authz
    return authz


def _read_identity(user_pk: Any) -> tuple[User | None, dict[str, TOTPDevice]]:
    try:
        user = User._default_manager.select_related("agency").get(pk=user_pk)
    except User.DoesNotExist:
        return None, {}
    # Which devices, not their secrets: the TOTP key is read from the database if ever asked for.
    devices = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).only(
        "id", "user_id", "name", "confirmed"
    )
    return user, {device.persistent_id: device for device in devices}


def user_for(user_pk: Any) -> User | None:
    """The user with this key, their agency and their confirmed second-factor
    devices (as ``user._csf_devices``): from the shared cache when it holds a
    current entry, else from the database. One cache read, which also brings
    the user's roles and permissions when those are current."""
    user: Any
    if not _enabled() or _uncommitted_change():
        user, devices = _read_identity(user_pk)
        if user is not None:
            user._csf_devices = devices
        return user
    key, authz_key = _identity_key(user_pk), _user_key(user_pk)
    found = cache.get_many([GENERATION_KEY, _user_generation_key(user_pk), key, authz_key])
    stamp = _stamp(found, user_pk)
    entry = found.get(key)
    if entry is not None and entry[0] == stamp:
        user, devices = entry[1], entry[2]
    else:
        user, devices = _read_identity(user_pk)
        if user is None:
            return None
        # Kept without the password hash: sessions are checked against this instead.
        user.__dict__["_csf_session_auth_hash"] = user.get_session_auth_hash()
        del user.__dict__["password"]  # deferred: read from the database if ever asked for
        cache.set(key, (stamp, user, devices), AUTHZ_CACHE_SECONDS)
    user._csf_devices = devices
    authz = _current_authz(found.get(authz_key), stamp, user)
    if authz is not None:
        user._csf_authz = authz
    return user


def _uncommitted_change() -> bool:
    """This transaction has changed roles or permissions and not committed yet.

    What it reads now may never be committed (a rollback), so it must not be
    kept for other requests: it reads the database and leaves the cache alone.
    A rolled-back transaction's pending callbacks are dropped by Django, so
    this stops being true with the rollback.
    """
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(
        getattr(func, "csf_authz_invalidation", False) for _, func, _ in connection.run_on_commit
    )


def invalidate(user_pks: Any = None) -> None:
    """These users' cached entries (everybody's, with none named) are stale from now
    on, and again when the transaction commits."""
    if not _enabled():
        return
    keys = [GENERATION_KEY] if user_pks is None else [_user_generation_key(pk) for pk in user_pks]

    def replace() -> None:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)

    replace.csf_authz_invalidation = True  # type: ignore[attr-defined]  # see _uncommitted_change
    replace()
    transaction.on_commit(replace)


class CachedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, reading model permissions through ``authz_for``.

    Object permissions are not answered here (``guardian`` does that), as with
    ModelBackend itself.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(authz_for(user_obj).permissions)
        return user_obj._perm_cache

    def get_user(self, user_id: Any) -> Any:
        # With the agency the layout names on every page, and the second-factor devices.
        user = user_for(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def _changed(created: bool = False, **kwargs: Any) -> None:
    # A new group or permission has no members yet (agencies make groups as they join).
    if not created:
        invalidate()


def _user_changed(instance: Any, **kwargs: Any) -> None:
    invalidate([instance.pk])


def _device_changed(instance: Any, **kwargs: Any) -> None:
    invalidate([instance.user_id])


def _membership_changed(action: str, instance: Any, reverse: bool, pk_set: Any, **kwargs: Any):
    """A user's groups or own permissions, changed from either side of the relation."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        invalidate([instance.pk])
    elif pk_set:
        invalidate(pk_set)
    else:  # cleared from the group's or permission's side: whose, is not said
        invalidate()


def _group_permissions_changed(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        invalidate()


for _through in (User.groups.through, User.user_permissions.through):
    m2m_changed.connect(_membership_changed, sender=_through, dispatch_uid=f"csf-authz-{_through}")
m2m_changed.connect(
    _group_permissions_changed, sender=Group.permissions.through, dispatch_uid="csf-authz-group"
)
post_save.connect(_user_changed, sender=User, dispatch_uid="csf-authz-user-save")
post_delete.connect(_user_changed, sender=User, dispatch_uid="csf-authz-user-delete")
post_save.connect(_device_changed, sender=TOTPDevice, dispatch_uid="csf-authz-device-save")
post_delete.connect(_device_changed, sender=TOTPDevice, dispatch_uid="csf-authz-device-delete")
for _model in (Agency, Group, Permission):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-save-{_model}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-delete-{_model}")


def active(user: Any) -> bool:
    """Signed in, switched on, and not of a deactivated agency (fail closed).

    A deactivated agency's staff hold no role and see nothing - cases, people,
    referrals, forums - from the moment it is switched off (DESIGN §4 rule 1).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.agency_id is None or user.agency.is_active


def roles_of(user: Any) -> frozenset[str]:
    """The user's role names: once per user object, from the shared cache where there is one."""
    if not active(user):
        return frozenset()
    return authz_for(user).roles
