"""API keys over the API, for the portal's admins (a key cannot manage keys)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import ApiKey, Role, Scope, User
from core.api.fields import EmailOfField
from core.api.serializers import ModelSerializer


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


urlpatterns = [
    path("api-keys/", ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<int:key_id>", ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("api-keys/<int:key_id>/revoke", ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
