"""Error responses: JSON under /api/, a page in the portal's layout everywhere else."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

TITLES = {
    400: _("Bad request"),
    403: _("Access denied"),
    404: _("Page not found"),
    413: _("Request too large"),
    429: _("Too many requests"),
    500: _("Something went wrong"),
}


def error_response(request, status: int, code: str, detail: str, *, template: str = "errors/error.html", fields=None):
    if request.path.startswith("/api/") or request.path.startswith("/webhook"):
        return JsonResponse({"error": code, "detail": detail, "fields": fields or {}}, status=status)
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    in_portal = (
        tenant is not None
        and tenant.schema_name != "public"
        and tenant.is_active
        and user is not None
        and user.is_authenticated
    )
    context = {
        "status": status,
        "title": TITLES.get(status, _("Error")),
        "detail": detail,
        "code": code,
        "layout": "portal/layout.html" if in_portal else "base_simple.html",
    }
    return render(request, template, context, status=status)


def bad_request(request, exception=None):
    return error_response(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request, exception=None):
    return error_response(request, 403, "permission_denied", _("You do not have permission to see this page."))


def page_not_found(request, exception=None):
    return error_response(request, 404, "not_found", _("Nothing here. Check the address or go back."))


def server_error(request):
    return error_response(
        request, 500, "server_error", _("An unexpected error happened. It has been logged; please try again.")
    )
