from django.urls import path

from fleet import views

app_name = "fleet"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("<str:site_id>/", views.device_detail, name="device"),
    path("<str:site_id>/key/", views.device_key, name="device-key"),
    path("<str:site_id>/reviewed/", views.device_reviewed, name="device-reviewed"),
]
