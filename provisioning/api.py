"""Staff API on the public host: provision, list, suspend and reactivate client companies."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsPlatformStaff
from core.http import client_ip
from provisioning import services
from tenants.models import Client
from tenants.selectors import primary_domain, tenant_url


class ClientSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="schema_name", read_only=True)
    domain = serializers.SerializerMethodField()
    portal_url = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "slug",
            "name",
            "status",
            "suspended_reason",
            "timezone",
            "language",
            "max_users",
            "api_rate",
            "raw_retention_days",
            "domain",
            "portal_url",
            "created_on",
        ]

    def get_domain(self, client) -> str:
        return primary_domain(client)

    def get_portal_url(self, client) -> str:
        return tenant_url(client, "/")


class ClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=40)
    admin_email = serializers.EmailField()
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, default="Europe/Paris")
    language = serializers.ChoiceField(["en", "fr"], required=False, default="fr")
    send_invitation = serializers.BooleanField(required=False, default=False)


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ClientListView(APIView):
    permission_classes = [IsPlatformStaff]

    def get(self, request):
        clients = Client.objects.exclude(schema_name="public").order_by("name")
        return Response(ClientSerializer(clients, many=True).data)

    def post(self, request):
        form = ClientCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            result = services.create_client(
                name=data["name"],
                slug=data["slug"],
                admin_email=data["admin_email"],
                domain=data.get("domain", ""),
                time_zone=data["timezone"],
                language=data["language"],
                send_invitation=data["send_invitation"],
                created_by=request.user,
                ip_address=client_ip(request),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        body = ClientSerializer(result.client).data
        body["admin"] = {"email": result.admin_email, "password": result.admin_password}
        return Response(body, status=status.HTTP_201_CREATED)


class ClientSuspendView(APIView):
    permission_classes = [IsPlatformStaff]

    def post(self, request, slug: str):
        client = get_object_or_404(Client.objects.exclude(schema_name="public"), schema_name=slug)
        form = SuspendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.suspend_client(
            client=client, reason=form.validated_data["reason"], by=request.user, ip_address=client_ip(request)
        )
        return Response(ClientSerializer(client).data)


class ClientReactivateView(APIView):
    permission_classes = [IsPlatformStaff]

    def post(self, request, slug: str):
        client = get_object_or_404(Client.objects.exclude(schema_name="public"), schema_name=slug)
        services.reactivate_client(client=client, by=request.user, ip_address=client_ip(request))
        return Response(ClientSerializer(client).data)


urlpatterns = [
    path("clients/", ClientListView.as_view(), name="staff-clients"),
    path("clients/<slug:slug>/suspend", ClientSuspendView.as_view(), name="staff-client-suspend"),
    path("clients/<slug:slug>/reactivate", ClientReactivateView.as_view(), name="staff-client-reactivate"),
]
