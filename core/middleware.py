import uuid
import zoneinfo
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.decoding import text_problem
from core.logging import request_id_var, tenant_var
from core.views import error_response


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if 0 < len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        # Each request runs in its own context: the values set here cannot leak into another request.
        request_id_var.set(request.id)
        tenant_var.set("-")
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BODY_BYTES
        if length > limit:
            return error_response(
                request,
                413,
                "request_too_large",
                _("The request body is %(size)s bytes; the limit is %(limit)s bytes. Send smaller batches.")
                % {"size": length, "limit": limit},
            )
        return self.get_response(request)


def _raw_path(request) -> bytes:
    """The path as the client sent it, before any decoding replaced what is not UTF-8."""
    scope = getattr(request, "scope", None)
    if scope is not None:  # ASGI: the server already decoded `path`, with replacement characters
        return unquote_to_bytes(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
    # WSGI: Django re-percent-encoded the bytes that are not UTF-8 (`repercent_broken_unicode`).
    return unquote_to_bytes(request.path_info)


def _decoded(raw: bytes) -> tuple[str, str]:
    """(text, "" or why it cannot be taken)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), _("Is not valid UTF-8.")
    return text, text_problem(text)


def request_input_problem(request) -> tuple[str, str] | None:
    """(field, reason) for the first path segment or query parameter no view could use, else None."""
    _path, problem = _decoded(_raw_path(request))
    if problem:
        return "path", problem
    for pair in request.META.get("QUERY_STRING", "").split("&"):
        name, _sep, value = pair.replace("+", " ").partition("=")
        name, problem = _decoded(unquote_to_bytes(name))
        if not problem:
            _value, problem = _decoded(unquote_to_bytes(value))
        if problem:
            return name.replace("\x00", "\\u0000") or "query", problem
    return None


class InputGuardMiddleware:
    """Query strings and path segments are input like any body: a NUL (PostgreSQL cannot store or
    compare it) or bytes that are not UTF-8 are refused here, once for every view, API and portal,
    with a 400 naming the parameter — instead of a DataError deep in a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = request_input_problem(request)
        if problem is not None:
            field, reason = problem
            return error_response(
                request,
                400,
                "invalid",
                _("The address cannot be used: %(field)s: %(reason)s") % {"field": field, "reason": reason},
                fields={field: reason},
            )
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Language: the user's choice, then the browser's. Time zone: the user's, then the tenant's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        tenant = getattr(request, "tenant", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        tz_name = (user.time_zone if user is not None and user.is_authenticated else "") or getattr(
            tenant, "timezone", ""
        )
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
