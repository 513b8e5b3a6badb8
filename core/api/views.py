from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.realtime import notify_tenant


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
