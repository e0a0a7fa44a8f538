from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("<uuid:pk>/", views.assessment_detail, name="detail"),
    path("<uuid:pk>/edit/", views.AssessmentEditView.as_view(), name="edit"),
    path("<uuid:pk>/correct/", views.AssessmentCorrectView.as_view(), name="correct"),
]
