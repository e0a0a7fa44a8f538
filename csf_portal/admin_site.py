from django.conf import settings
from django.contrib import admin
from django_otp.admin import OTPAdminSite


class PortalAdminSite(OTPAdminSite):
    """OTP-aware admin: a user must have verified a second factor to use it.

    In demo mode with MFA turned off it behaves as Django's plain admin site.
    """

    site_header = "CSF Portal administration"
    site_title = "CSF Portal administration"
    index_title = "Agencies, users and roles"

    def has_permission(self, request):
        if settings.REQUIRE_MFA:
            return super().has_permission(request)
        return admin.AdminSite.has_permission(self, request)
