"""Every API error is `{"error": code, "detail": text a person can act on, "fields": {...}}`."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.db import RETRY_AFTER_S, is_database_unavailable
from core.decoding import BadInput
from core.views import database_unavailable_detail

logger = logging.getLogger(__name__)

CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def _flatten(detail):
    """DRF nests messages in lists and dicts; keep the structure, turn each leaf into text."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return " ".join(str(item) for item in detail)
        return [_flatten(item) for item in detail]
    return str(detail)


def error_body(code: str, detail: str, fields: dict | None = None, **extra) -> dict:
    return {"error": code, "detail": detail, "fields": fields or {}, **extra}


def bad_input_body(exc: BadInput) -> dict:
    """What the front door refused (`core.decoding`), in the API's error shape."""
    if exc.code == "malformed_request":
        detail = _("The request body cannot be read: %(reason)s") % {"reason": exc.reason}
    else:
        detail = _("Nothing was stored: fix %(field)s and send the request again.") % {"field": exc.field}
    return error_body(exc.code, detail, {exc.field: exc.reason})


def in_use_body(exc: ProtectedError | RestrictedError) -> dict:
    """An object others still refer to (a site with batteries, a type with meters): which kinds of
    objects, and how many of each, so the caller knows what to move or delete first."""
    counts: dict[str, int] = {}
    for obj in exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects:
        name = str(obj._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    using = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
    return error_body(
        "in_use",
        _("Nothing was deleted: it is still used by %(using)s. Move or delete those first.") % {"using": using},
        using=counts,
    )


def exception_handler(exc, context):
    request = context.get("request")
    if is_database_unavailable(exc):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        set_rollback()
        return Response(
            error_body("database_unavailable", database_unavailable_detail()),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, BadInput):
        set_rollback()
        return Response(bad_input_body(exc), status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        set_rollback()
        return Response(in_use_body(exc), status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response(
            error_body("request_too_large", _("The request body is larger than the limit. Send smaller batches.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    code = CODES.get(type(exc), getattr(exc, "default_code", "error"))
    extra = {}
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        flat = _flatten(exc.detail)
        fields = flat if isinstance(flat, dict) else {"non_field_errors": flat}
        names = ", ".join(fields)
        detail = _("Invalid input in: %(fields)s.") % {"fields": names} if names else _("Invalid input.")
        if list(fields) == ["non_field_errors"]:
            detail = str(fields["non_field_errors"])
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        limit = getattr(request, "throttle_description", "") if request is not None else ""
        detail = _("Rate limit exceeded (%(limit)s for these credentials). Retry in %(wait)s seconds.") % {
            "limit": limit or _("the API limit"),
            "wait": wait,
        }
        extra = {"limit": limit, "retry_after": wait}
    else:
        detail = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else str(_flatten(exc.detail))
        if isinstance(exc, exceptions.UnsupportedMediaType):
            fields = {"Content-Type": _("Send application/json.")}
        if isinstance(exc, exceptions.AuthenticationFailed) and getattr(exc.detail, "code", "") == "invalid_api_key":
            code = "invalid_api_key"
    set_rollback()
    return Response(error_body(code, detail, fields, **extra), status=exc.status_code, headers=headers)
