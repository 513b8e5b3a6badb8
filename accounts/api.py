"""Who is calling (`/me`), and API keys over the API for the portal's admins (a key cannot manage keys)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import ApiKeyPrincipal
from accounts.models import ApiKey, Role, Scope, User
from core.api.fields import EmailOfField
from core.api.permissions import principal_scopes
from core.api.serializers import ModelSerializer
from tenants.selectors import primary_domain


class IsTenantAdminUser(BasePermission):
    message = "Managing API keys needs a signed-in admin of this company; API keys cannot manage keys."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, User) and request.user.is_active and request.user.role == Role.ADMIN


class ApiKeySerializer(ModelSerializer):
    created_by = EmailOfField("created_by")
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "active", "created_by", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(Scope.values), min_length=1)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    token = serializers.CharField(read_only=True, help_text="The key itself: shown this once, stored only hashed.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiKeyListView(APIView):
    permission_classes = [IsTenantAdminUser]

    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request):
        return Response(ApiKeySerializer(selectors.api_keys(), many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request):
        form = ApiKeyCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        key, token = services.create_api_key(
            created_by=request.user, ip_address=request.META.get("REMOTE_ADDR"), **form.validated_data
        )
        return Response(dict(ApiKeySerializer(key).data, token=token), status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    permission_classes = [IsTenantAdminUser]

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request, key_id: int):
        return Response(ApiKeySerializer(get_object_or_404(ApiKey, pk=key_id)).data)


class ApiKeyRevokeView(APIView):
    permission_classes = [IsTenantAdminUser]

    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request, key_id: int):
        key = services.revoke_api_key(
            key=get_object_or_404(ApiKey, pk=key_id), by=request.user, ip_address=request.META.get("REMOTE_ADDR")
        )
        return Response(ApiKeySerializer(key).data)


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


urlpatterns = [
    path("me", MeView.as_view(), name="api-me"),
    path("api-keys/", ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<int:key_id>", ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("api-keys/<int:key_id>/revoke", ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
