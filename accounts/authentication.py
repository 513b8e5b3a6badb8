"""Who calls the API: an API key (a header, or the URL for devices that cannot set one) or a
portal user's session; and how each scheme is described in the OpenAPI document."""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.services import authenticate_api_key


@dataclass
class ApiKeyPrincipal:
    """Who is calling when a request carries an API key: the key itself, not a person."""

    key: ApiKey
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False

    @property
    def pk(self) -> None:
        return None

    def __str__(self) -> str:
        return f"api-key:{self.key.prefix}"


def api_key_from_headers(headers) -> str | None:
    auth = headers.get("Authorization", "")
    scheme, _sep, value = auth.partition(" ")
    if scheme.lower() == "api-key" and value.strip():
        return value.strip()
    header_key = headers.get("X-API-Key", "").strip()
    return header_key or None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>` or `X-API-Key: <key>`, looked up in the host tenant's schema only."""

    def token(self, request) -> str | None:
        return api_key_from_headers(request.headers)

    def authenticate(self, request):
        token = self.token(request)
        if token is None:
            return None
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        # Keys live in the host's schema: a key of another tenant is simply unknown here. On the
        # public host the keys are platform staff's.
        key = authenticate_api_key(token)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."), code="invalid_api_key")
        is_staff = tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
        return ApiKeyPrincipal(key=key, scopes=frozenset(key.scopes), is_staff=is_staff), key

    def authenticate_header(self, request) -> str:
        return 'Api-Key realm="api"'


class UrlKeyAuthentication(ApiKeyAuthentication):
    """For devices that cannot set headers (Shelly webhooks and outbound websockets): the key in the
    URL path (`…/<key>/`) or query string (`?key=`), else the usual headers."""

    key_in_url = True  # routed twice, with and without the key in the path (see core.api.schema)

    def token(self, request) -> str | None:
        kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs", {})
        return kwargs.get("key") or request.query_params.get("key") or super().token(request)


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The portal's logged-in users may call the API too, with CSRF protection."""


# How each scheme appears in the OpenAPI document (drf-spectacular finds these subclasses).
class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` (the header `X-API-Key: <key>` works too). Keys are per tenant.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.PortalSessionAuthentication"
    name = "PortalSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class UrlKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.UrlKeyAuthentication"
    name = "UrlKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "key",
            "description": "For devices that cannot set headers: the key in the path (`/webhook/<key>/`) or `?key=`.",
        }
