from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import ApiKeyPrincipal
from core.api.permissions import principal_scopes
from core.realtime import notify_tenant
from tenants.selectors import primary_domain


class MeView(APIView):
    """Who is calling, for which tenant, with which scopes."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "tenant": inline_serializer(
                    "MeTenant",
                    {
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                        "domain": serializers.CharField(),
                        "timezone": serializers.CharField(),
                    },
                ),
                "principal": inline_serializer(
                    "MePrincipal",
                    {
                        "type": serializers.ChoiceField(["api_key", "user"]),
                        "name": serializers.CharField(),
                        "prefix": serializers.CharField(required=False),
                        "email": serializers.CharField(required=False),
                        "role": serializers.CharField(required=False),
                        "last_used_at": serializers.DateTimeField(required=False),
                    },
                ),
                "scopes": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        tenant = request.tenant
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            principal = {
                "type": "api_key",
                "name": user.key.name,
                "prefix": user.key.prefix,
                "last_used_at": user.key.last_used_at,
            }
        else:
            principal = {"type": "user", "name": user.get_full_name(), "email": user.email, "role": user.role}
        return Response(
            {
                "tenant": {
                    "name": tenant.name,
                    "slug": tenant.schema_name,
                    "domain": primary_domain(tenant),
                    "timezone": tenant.timezone,
                },
                "principal": principal,
                "scopes": sorted(principal_scopes(user)),
            }
        )


class EventSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(["info", "warning", "critical"], required=False, default="info")


class EventView(APIView):
    """Show a message on every open portal page of this company (e.g. to check the live link)."""

    @extend_schema(
        request=EventSerializer,
        responses={202: inline_serializer("EventAccepted", {"delivered": serializers.BooleanField()})},
    )
    def post(self, request):
        form = EventSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        delivered = notify_tenant(request.tenant, "integration.message", dict(form.validated_data))
        return Response({"delivered": delivered}, status=202)
