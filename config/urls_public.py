"""URLs of the public host (`<base-domain>`): landing page, staff admin, staff API."""

from django.urls import include, path
from django.views.generic import TemplateView

from core.admin_sites import public_admin_site

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/home.html"), name="public-home"),
    path("admin/", public_admin_site.urls),
    path("api/v1/", include("provisioning.api")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
