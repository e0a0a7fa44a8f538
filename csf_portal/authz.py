"""A user's roles and model permissions, kept in the shared cache between requests.

Every page reads them: the service navigation asks ``has_perm`` for each entry
and ``csf_portal.access`` asks which roles the user holds. Read from the
database, that was three queries on every request (ADR 0006).

Correctness comes first: one *generation* token covers every user's entry.
Any change to group membership, a user's own permissions, a group's
permissions, or a group or permission itself replaces the token, once at once
and once more when the transaction commits (so a request that read the old
rows just before the commit cannot store them under the new token). An entry
also records whether the user was a superuser, and is used only while that
still holds. Entries expire after ``AUTHZ_CACHE_SECONDS`` whatever happens.

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
    if not _enabled():
        authz = _read(user, backend)
    else:
        key = _user_key(user.pk)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        entry = found.get(key)
        if generation is None:
            generation = uuid.uuid4().hex
            if not cache.add(GENERATION_KEY, generation, timeout=None):
                generation = cache.get(GENERATION_KEY) or generation
            entry = None
        if (
            entry is not None
            and entry[0] == generation
            and entry[1].is_superuser == user.is_superuser
        ):
            authz = entry[1]
        else:
            authz = _read(user, backend)
            cache.set(key, (generation, authz), AUTHZ_CACHE_SECONDS)
    user._csf_authz = authz
    return authz


def invalidate() -> None:
    """Every cached entry is stale from now on, and again when the transaction commits."""
    if not _enabled():
        return
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


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


def _changed(**kwargs: Any) -> None:
    invalidate()


def _m2m_changed(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        invalidate()


for _through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(_m2m_changed, sender=_through, dispatch_uid=f"csf-authz-{_through}")
for _model in (Group, Permission):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-save-{_model}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"csf-authz-delete-{_model}")
