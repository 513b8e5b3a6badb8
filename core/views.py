"""Error responses: JSON under /api/, a page in the portal's layout everywhere else."""

import sys

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.db import RETRY_AFTER_S, is_database_unavailable

# Lazy: read in each request's language (a module-level gettext would freeze the first one).
TITLES = {
    400: gettext_lazy("Bad request"),
    403: gettext_lazy("Access denied"),
    404: gettext_lazy("Page not found"),
    413: gettext_lazy("Request too large"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Something went wrong"),
    503: gettext_lazy("Temporarily unavailable"),
}


def error_response(
    request,
    status: int,
    code: str,
    detail: str,
    *,
    template: str = "errors/error.html",
    fields=None,
    layout: str | None = None,
):
    if request.path.startswith("/api/") or request.path.startswith("/webhook"):
        return JsonResponse({"error": code, "detail": detail, "fields": fields or {}}, status=status)
    if layout is None:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        in_portal = (
            tenant is not None
            and tenant.schema_name != "public"
            and tenant.is_active
            and user is not None
            and user.is_authenticated
        )
        layout = "portal/layout.html" if in_portal else "base_simple.html"
    context = {
        "status": status,
        "title": TITLES.get(status, _("Error")),
        "detail": detail,
        "code": code,
        "layout": layout,
    }
    return render(request, template, context, status=status)


def database_unavailable_detail() -> str:
    detail = _("The service is briefly unavailable (its database cannot be reached). Try again in %(seconds)s seconds.")
    return detail % {"seconds": RETRY_AFTER_S}


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After while PostgreSQL cannot be reached: JSON on the API, a page elsewhere
    (in the simple layout: the portal's needs the signed-in user, who is in the database)."""
    response = error_response(
        request, 503, "database_unavailable", database_unavailable_detail(), layout="base_simple.html"
    )
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def bad_request(request, exception=None):
    return error_response(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request, exception=None):
    return error_response(request, 403, "permission_denied", _("You do not have permission to see this page."))


def page_not_found(request, exception=None):
    return error_response(request, 404, "not_found", _("Nothing here. Check the address or go back."))


def server_error(request):
    if is_database_unavailable(sys.exc_info()[1]):  # Django calls this while handling the exception
        return database_unavailable(request)
    return error_response(
        request, 500, "server_error", _("An unexpected error happened. It has been logged; please try again.")
    )
