from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.overview, name="overview"),
    *[path(f"{slug}/", views.section, {"slug": slug}, name=slug) for slug in ("chat",)],
]
