from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import ApiKeyPrincipal
from core.api.permissions import principal_scopes
from tenants.selectors import primary_domain


class MeView(APIView):
    """Who is calling, for which tenant, with which scopes."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "tenant": inline_serializer(
                    "MeTenant",
                    {"name": serializers.CharField(), "slug": serializers.CharField(),
                     "domain": serializers.CharField(), "timezone": serializers.CharField()},
                ),
                "principal": inline_serializer(
                    "MePrincipal",
                    {"type": serializers.ChoiceField(["api_key", "user"]), "name": serializers.CharField(),
                     "prefix": serializers.CharField(required=False), "email": serializers.CharField(required=False),
                     "role": serializers.CharField(required=False),
                     "last_used_at": serializers.DateTimeField(required=False)},
                ),
                "scopes": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        tenant = request.tenant
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            principal = {"type": "api_key", "name": user.key.name, "prefix": user.key.prefix,
                         "last_used_at": user.key.last_used_at}
        else:
            principal = {"type": "user", "name": user.get_full_name(), "email": user.email, "role": user.role}
        return Response(
            {
                "tenant": {"name": tenant.name, "slug": tenant.schema_name, "domain": primary_domain(tenant),
                           "timezone": tenant.timezone},
                "principal": principal,
                "scopes": sorted(principal_scopes(user)),
            }
        )
