from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("new/", views.ConsentRecordView.as_view(), name="record"),
    path("<uuid:consent_id>/withdraw/", views.ConsentWithdrawView.as_view(), name="withdraw"),
    path("basis/new/", views.SharingBasisRecordView.as_view(), name="basis_record"),
    path("basis/<uuid:basis_id>/end/", views.SharingBasisEndView.as_view(), name="basis_end"),
]
