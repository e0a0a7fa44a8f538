from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from csf_portal import views

urlpatterns = [
    path("", include("pages.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/", views.account, name="account"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("accounts/mfa/enrolment-code/", views.EnrolmentCodeView.as_view(), name="mfa_enrol"),
    path("accounts/mfa/setup/", views.MfaSetupView.as_view(), name="mfa_setup"),
    path("accounts/mfa/verify/", views.MfaVerifyView.as_view(), name="mfa_verify"),
    path("accounts/mfa/recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery_codes"),
    path("referrals/", include("referrals.urls")),
    path("", include("pages.case_urls")),
    path("people/<uuid:person_id>/consent/", include("consent.urls")),
    path("sharing-bases/", include("consent.approval_urls")),
    path("assessments/", include("assessments.urls")),
    path("forums/", include("forums.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "csf_portal.errors_views.not_found"
handler500 = "csf_portal.errors_views.server_error"
handler403 = "csf_portal.errors_views.forbidden"
