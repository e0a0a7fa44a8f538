"""Home and the role-change log (no namespace: ``home``, ``role_changes``)."""

from django.urls import path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("role-changes/", views.role_changes, name="role_changes"),
]
