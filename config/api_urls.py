"""The tenant REST API, `/api/v1/`: each app contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("core.api.urls")),
    path("", include("accounts.api")),
    path("", include("alerts.api")),
    path("", include("charging.api")),
    path("", include("fleet.api")),
    path("", include("telemetry.api")),
]
