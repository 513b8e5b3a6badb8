"""How the API is described in OpenAPI: its field types, its error answers, its plain views.
(The authentication schemes are described beside them, in `accounts.authentication`.)"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView


class TimestampFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.api.fields.TimestampField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {"type": "integer", "description": "Unix seconds."}
        return {
            "oneOf": [{"type": "number"}, {"type": "string"}],
            "description": "Unix seconds or milliseconds (a number or numeric text), or an ISO 8601 date-time.",
        }


class SizeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.api.fields.SizeField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {"type": "integer", "description": "Bytes."}
        return {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}], "description": 'Bytes, or "32G".'}


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (core.api.errors.error_body)."""

    error = serializers.CharField(help_text="A stable code: invalid, not_found, not_authenticated, throttled, …")
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(child=serializers.JSONField(), help_text="Field → what is wrong with it.")
    limit = serializers.CharField(required=False, help_text="With 429: the rate that was exceeded.")
    retry_after = serializers.IntegerField(required=False, help_text="With 429: seconds to wait.")


# Answers any operation may give, whatever its view: the exception handler, the permissions, the
# throttle and the URL resolver (an id that does not parse, a page past the end) speak for all of them.
ERRORS = {
    "400": "Invalid input: `fields` names each problem.",
    "401": "No credentials, or credentials this company does not know.",
    "403": "The credentials lack the scope or the role this needs.",
    "404": "No such object here (objects of other companies are not found either), or no such page.",
    "429": "Over the key's rate: retry after `Retry-After` seconds.",
}
BODY_ERRORS = {
    "413": "The body is larger than the limit.",
    "415": "A body in a content type this operation does not read.",
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

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        # A view that reads its key from the path or from `?key=` is routed twice; path variables are
        # not part of the generated name, so the route with the key in the path is named apart.
        reads_url_key = any(
            getattr(cls, "key_in_url", False) for cls in getattr(self.view, "authentication_classes", ())
        )
        if "{key}" in self.path and reads_url_key:
            return f"{operation_id}_with_path_key"
        return operation_id

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERRORS, **BODY_ERRORS) if self.method in ("POST", "PUT", "PATCH") else ERRORS
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code, direction=direction
                )
        return responses

    def get_response_serializers(self):
        serializers = super().get_response_serializers()
        return serializers if serializers is not None else OpenApiTypes.OBJECT

    def get_request_serializer(self):
        serializer = super().get_request_serializer()
        if serializer is None and self.method in ("POST", "PUT", "PATCH"):
            return OpenApiTypes.OBJECT
        return serializer
