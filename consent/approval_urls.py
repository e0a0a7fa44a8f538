"""Requests to share without consent, for the chairs who decide them."""

from django.urls import path

from consent import views

app_name = "sharing_bases"

urlpatterns = [
    path("", views.sharing_bases_waiting, name="waiting"),
    path("<uuid:basis_id>/", views.SharingBasisDecideView.as_view(), name="decide"),
]
