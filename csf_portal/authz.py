"""A user's roles and model permissions, kept in the shared cache between requests.

Every page reads them: the service navigation asks ``has_perm`` for each entry
and ``csf_portal.access`` asks which roles the user holds. Read from the
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

from csf_portal.models import Role, User

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
        key, user_generation_key = _user_key(user.pk), _user_generation_key(user.pk)
        found = cache.get_many([GENERATION_KEY, user_generation_key, key])
        stamp = (_generation(found, GENERATION_KEY), _generation(found, user_generation_key))
        entry = found.get(key)
        if entry is not None and entry[0] == stamp and entry[1].is_superuser == user.is_superuser:
            authz = entry[1]
        else:
            authz = _read(user, backend)
            cache.set(key, (stamp, authz), AUTHZ_CACHE_SECONDS)
    user._csf_authz = authz
    return authz


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
        # The layout names the user's agency on every page: fetched with the user.
        try:
            user = User._default_manager.select_related("agency").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def _changed(created: bool = False, **kwargs: Any) -> None:
    # A new group or permission has no members yet (agencies make groups as they join).
    if not created:
        invalidate()


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
for _model in (Group, Permission):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-save-{_model}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-delete-{_model}")
