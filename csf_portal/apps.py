from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CsfPortalConfig(AppConfig):
    name = "csf_portal"
    verbose_name = "CSF Portal"

    def ready(self) -> None:
        from csf_portal import authz  # noqa: F401  (connects its invalidation signals)


class PortalAdminConfig(AdminConfig):
    """The admin site sits behind the same second factor as the rest of the portal."""

    default_site = "csf_portal.admin_site.PortalAdminSite"
