"""The charging REST API, `/api/v1/charging/…`: the analyses, the sessions, and the imports."""

from django.urls import include, path

urlpatterns = [
    path("charging/", include("charging.api.analyses")),
    path("charging/", include("charging.api.imports")),
    path("charging/", include("charging.api.sessions")),
]
