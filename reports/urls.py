from django.urls import path

from reports import outcomes, views

app_name = "reports"

urlpatterns = [
    path("subject-access/", views.subject_access, name="subject_access"),
    path(
        "subject-access/<uuid:person_id>/",
        views.SubjectAccessRequestView.as_view(),
        name="subject_access_request",
    ),
    path("documents/<uuid:pk>/", views.document_status, name="document"),
    path("documents/<uuid:pk>/retry/", views.DocumentRetryView.as_view(), name="document_retry"),
    path("documents/<uuid:pk>/download/", views.document_download, name="document_download"),
    path(
        "meeting-pack/<uuid:meeting_id>/",
        views.MeetingPackRequestView.as_view(),
        name="meeting_pack",
    ),
    path("outcomes/", outcomes.outcomes_dashboard, name="outcomes"),
    path("outcomes/export.csv", outcomes.export_csv, name="outcomes_csv"),
    path("outcomes/export.xlsx", outcomes.export_xlsx, name="outcomes_xlsx"),
    path("outcomes/report/", outcomes.OutcomesReportView.as_view(), name="outcomes_report"),
    path("care-plan/<uuid:plan_id>/", views.CarePlanPdfRequestView.as_view(), name="care_plan_pdf"),
]
