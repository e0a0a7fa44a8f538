"""What each role (DESIGN §2) may do, as model permissions on its group.

The data migrations apply this table; later capabilities add their
permissions here and ship a migration (depending on their models) that calls
``sync_role_permissions`` again.
"""

from __future__ import annotations

from typing import Any

from csf_portal.models import Role

#: Roles whose holders can see person-level data (DESIGN §2): practitioners
#: (their agency's cases and referrals, emergency access), forum chairs (every
#: submitted referral, triage, subject access), forum members (the cases on the
#: agendas of meetings they attend) and SOG members (the cases linked to system
#: issues, where their agency is involved). Commissioners and administrators
#: never see case content. Granting one of these, or an agency, is a
#: "case-bearing" change (csf_portal.services.user_roles_set).
CASE_BEARING_ROLES: frozenset[str] = frozenset(
    {Role.PRACTITIONER, Role.FORUM_CHAIR, Role.FORUM_MEMBER, Role.SOG_MEMBER}
)


ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.PRACTITIONER: ("csf_portal.make_referral",),
    Role.FORUM_CHAIR: (
        "csf_portal.make_referral",
        "csf_portal.triage_referral",
        "csf_portal.attend_forum",
        "csf_portal.work_system_issues",
        "csf_portal.view_outcomes",
    ),
    Role.FORUM_MEMBER: ("csf_portal.attend_forum",),
    Role.SOG_MEMBER: ("csf_portal.work_system_issues", "csf_portal.view_outcomes"),
    Role.COMMISSIONER: ("csf_portal.view_outcomes",),
    Role.ADMINISTRATOR: (
        "csf_portal.administer_portal",
        "csf_portal.add_agency",
        "csf_portal.change_agency",
        "csf_portal.view_agency",
        "csf_portal.add_user",
        "csf_portal.change_user",
        "csf_portal.view_user",
        "csf_portal.view_accessevent",
        "auth.view_group",
        "assessments.view_assessmenttemplate",
        "assessments.change_assessmenttemplate",
        "assessments.view_templateitem",
        "assessments.add_templateitem",
        "assessments.change_templateitem",
        "assessments.delete_templateitem",
        "forums.view_forum",
        "forums.change_forum",
        "forums.view_forummembership",
        "forums.add_forummembership",
        "forums.change_forummembership",
        "reports.view_unitcost",
        "reports.change_unitcost",
    ),
}


def sync_role_permissions(apps: Any, schema_editor: Any) -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Migration state apps have no models_module; create_permissions needs one.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            # A permission of an app whose tables a later migration creates is given
            # by that app's own migration, which calls this again.
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
