"""The portal's own account: the actor of work no person does (nightly jobs).

Every history row names who made the change (issue 19). A nightly Celery task
(consent review reminders, sharing-basis lapse reminders) acts for no one, so it
acts as this account: its rows say "CSF Portal (automatic)" rather than nothing.
The account is made by a data migration (and by the test suite's reference rows),
holds no role and no agency, is inactive and has no usable password, so no one can
sign in as it, and the permission checks give it nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csf_portal.models import User

SYSTEM_USERNAME = "csf-portal-system"


def sync_system_account(apps: Any, schema_editor: Any) -> None:
    """Make the portal's own account if it is missing (idempotent)."""
    from django.contrib.auth.hashers import make_password

    model = apps.get_model("csf_portal", "User")
    model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "first_name": "CSF Portal",
            "last_name": "(automatic)",
            "is_active": False,
            "password": make_password(None),
        },
    )


def system_actor() -> User:
    """The account nightly jobs act as. Raises if the migration that makes it has not run."""
    from csf_portal.models import User

    return User.objects.get(username=SYSTEM_USERNAME)
