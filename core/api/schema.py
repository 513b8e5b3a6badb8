"""OpenAPI descriptions of Voltwatch's authentication schemes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` (the header `X-API-Key: <key>` works too). Keys are per tenant.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.PortalSessionAuthentication"
    name = "PortalSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class UrlKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.UrlKeyAuthentication"
    name = "UrlKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "key",
            "description": "For devices that cannot set headers: the key in the path (`/webhook/<key>/`) or `?key=`.",
        }


class VoltwatchAutoSchema(AutoSchema):
    """Plain APIViews answer JSON objects described in their summaries: document them as such rather
    than leaving them out of the API docs for want of a serializer to read."""

    def _get_serializer(self):
        view = self.view
        plain = isinstance(view, APIView) and not isinstance(view, GenericAPIView)
        if plain and not hasattr(view, "serializer_class") and not callable(getattr(view, "get_serializer", None)):
            return None  # described by @extend_schema, or a JSON object
        return super()._get_serializer()

    def get_response_serializers(self):
        serializers = super().get_response_serializers()
        return serializers if serializers is not None else OpenApiTypes.OBJECT

    def get_request_serializer(self):
        serializer = super().get_request_serializer()
        if serializer is None and self.method in ("POST", "PUT", "PATCH"):
            return OpenApiTypes.OBJECT
        return serializer
