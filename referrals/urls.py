from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.ReferralStartView.as_view(), name="start"),
    path("triage/", views.triage_queue, name="triage"),
    path("<uuid:pk>/", views.referral_detail, name="detail"),
    path("<uuid:pk>/edit/<slug:step>/", views.referral_step, name="step"),
    path(
        "<uuid:pk>/risks/<int:risk_id>/remove/", views.RiskRemoveView.as_view(), name="risk_remove"
    ),
    path("<uuid:pk>/resume/", views.referral_resume, name="resume"),
    path("<uuid:pk>/check/", views.CheckAnswersView.as_view(), name="check"),
    path("<uuid:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("<uuid:pk>/accept/", views.ReferralAcceptView.as_view(), name="accept"),
    path("<uuid:pk>/redirect/", views.ReferralRedirectView.as_view(), name="redirect"),
    path("<uuid:pk>/decline/", views.ReferralDeclineView.as_view(), name="decline"),
]
