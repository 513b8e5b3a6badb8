"""OpenAPI descriptions of Voltwatch's authentication schemes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
