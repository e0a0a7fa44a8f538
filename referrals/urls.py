from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.ReferralStartView.as_view(), name="start"),
    path("triage/", views.triage_queue, name="triage"),
    path("<uuid:pk>/", views.referral_detail, name="detail"),
    path("<uuid:pk>/edit/<slug:step>/", views.ReferralStepView.as_view(), name="step"),
    path(
        "<uuid:pk>/risks/<int:risk_id>/remove/", views.RiskRemoveView.as_view(), name="risk_remove"
    ),
    path("<uuid:pk>/resume/", views.referral_resume, name="resume"),
    path("<uuid:pk>/check/", views.CheckAnswersView.as_view(), name="check"),
    path("<uuid:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("<uuid:pk>/accept/", views.DecisionView.as_view(decision="accept"), name="accept"),
    path("<uuid:pk>/redirect/", views.DecisionView.as_view(decision="redirect"), name="redirect"),
    path("<uuid:pk>/decline/", views.DecisionView.as_view(decision="decline"), name="decline"),
]
