from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CsfPortalConfig(AppConfig):
    name = "csf_portal"
    verbose_name = "CSF Portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from csf_portal import authz  # noqa: F401  (connects its invalidation signals)

        user_login_failed.connect(_count_account_failure, dispatch_uid="csf_account_failures")


def _count_account_failure(
    sender: object, credentials: dict[str, object], **kwargs: object
) -> None:
    from csf_portal import services

    username = credentials.get("username")
    if isinstance(username, str):
        services.record_account_sign_in_failure(username=username.strip())


class PortalAdminConfig(AdminConfig):
    """The admin site sits behind the same second factor as the rest of the portal."""

    default_site = "csf_portal.admin_site.PortalAdminSite"
