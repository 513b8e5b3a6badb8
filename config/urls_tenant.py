"""URLs of a client company's portal (`<tenant>.<base-domain>`)."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from core.admin_sites import tenant_admin_site
from telemetry.api.devices import webhook_urlpatterns

urlpatterns = [
    path("", include("portal.urls")),
    path("alerts/", include("alerts.urls")),
    path("fleet/", include("fleet.urls")),
    path("charging/", include("charging.urls")),
    path("", include("telemetry.urls")),
    path("accounts/", include("accounts.urls")),
    path("settings/", include("accounts.settings_urls")),
    path("admin/", tenant_admin_site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/measurements/", include("telemetry.api.seed")),
    path("", include(webhook_urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
