"""The case section's URLs (namespace ``cases``): its pages come from several apps."""

from django.urls import path

from assessments.views import AssessmentStartView
from cases import views
from pages import views as pages

app_name = "cases"

urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/emergency/", views.EmergencyAccessView.as_view(), name="emergency"),
    path("cases/emergency/review/", views.emergency_review, name="emergency_review"),
    path(
        "cases/emergency/<uuid:grant_id>/review/",
        views.EmergencyReviewView.as_view(),
        name="emergency_reviewed",
    ),
    path("cases/<uuid:pk>/", pages.case_detail, name="detail"),
    path("cases/<uuid:pk>/risks/new/", views.RiskAddView.as_view(), name="risk_add"),
    path("cases/<uuid:pk>/risks/<uuid:risk_id>/", views.RiskEditView.as_view(), name="risk_edit"),
    path(
        "cases/<uuid:pk>/risks/<uuid:risk_id>/accept/",
        views.RiskAcceptView.as_view(),
        name="risk_accept",
    ),
    path(
        "cases/<uuid:pk>/risks/<uuid:risk_id>/close/",
        views.RiskCloseView.as_view(),
        name="risk_close",
    ),
    path(
        "cases/<uuid:pk>/risks/<uuid:risk_id>/reopen/",
        views.RiskReopenView.as_view(),
        name="risk_reopen",
    ),
    path(
        "cases/<uuid:pk>/agencies/<int:involvement_id>/",
        views.InvolvementView.as_view(),
        name="involvement",
    ),
    path("cases/<uuid:pk>/care-plan/", views.CarePlanDraftView.as_view(), name="care_plan"),
    path(
        "cases/<uuid:pk>/care-plan/agree/",
        pages.CarePlanAgreeView.as_view(),
        name="care_plan_agree",
    ),
    path(
        "cases/<uuid:pk>/care-plan/<int:version>/",
        views.care_plan_version,
        name="care_plan_version",
    ),
    path("cases/<uuid:pk>/reviews/new/", pages.OutcomeReviewView.as_view(), name="review_add"),
    path("cases/<uuid:pk>/status/", views.CaseStateView.as_view(), name="state"),
    path("cases/<uuid:pk>/leave/", pages.LeaveCaseView.as_view(), name="leave"),
    path("people/<uuid:pk>/", pages.person_detail, name="person"),
    path(
        "people/<uuid:person_id>/assessments/new/",
        AssessmentStartView.as_view(),
        name="assessment_start",
    ),
]
