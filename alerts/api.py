"""`/api/v1/alerts/…`: alerts and their lifecycle, rules, silences, channels, and the endpoint where
outside systems push an alert in (the customer's `receive-alert`)."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import configuration, fanout, selectors, services
from alerts.models import Alert, AlertComment, AlertRule, Channel, Delivery, Severity, Silence, Status
from core.api.fields import EmailOfField, TimestampField
from core.api.serializers import ModelSerializer
from core.http import client_ip


def _who(request) -> dict:
    """The services' actor (a person, or the API key's principal) and where the request came from."""
    return {"by": request.user, "ip_address": client_ip(request)}


class CommentSerializer(ModelSerializer):
    author = EmailOfField("author")

    class Meta:
        model = AlertComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class DeliverySerializer(ModelSerializer):
    channel = serializers.CharField(source="channel.name")
    attempts_log = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "event",
            "state",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
            "attempts_log",
        ]

    def get_attempts_log(self, delivery) -> list[dict]:
        return [
            {"at": a.at, "ok": a.ok, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
            for a in delivery.log.all()
        ]


class AlertSerializer(ModelSerializer):
    assignee = EmailOfField("assignee")
    acknowledged_by = EmailOfField("acknowledged_by")

    class Meta:
        model = Alert
        fields = [
            "id",
            "fingerprint",
            "status",
            "severity",
            "type",
            "message",
            "value",
            "labels",
            "source_type",
            "source_id",
            "source_label",
            "site_id",
            "site_label",
            "first_seen",
            "last_seen",
            "occurrences",
            "silenced",
            "inhibited",
            "acknowledged_by",
            "acknowledged_at",
            "assignee",
            "resolved_at",
        ]


class AlertDetailSerializer(AlertSerializer):
    comments = CommentSerializer(many=True, read_only=True)
    deliveries = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "comments", "deliveries"]

    def get_deliveries(self, alert) -> list[dict]:
        return DeliverySerializer(selectors.deliveries_of(alert), many=True).data


class AlertFilter(serializers.Serializer):
    severity = serializers.ChoiceField(Severity.values, required=False)
    status = serializers.ChoiceField([*Status.values, "open"], required=False)
    site = serializers.CharField(required=False)
    type = serializers.CharField(required=False)
    source_type = serializers.CharField(required=False)
    since = TimestampField(required=False, bounded=False)
    until = TimestampField(required=False, bounded=False)
    search = serializers.CharField(required=False)


class AlertListView(generics.ListAPIView):
    serializer_class = AlertSerializer

    @extend_schema(parameters=[OpenApiParameter(name) for name in AlertFilter().fields])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = AlertFilter(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        data["alert_type"] = data.pop("type", "")
        return selectors.filtered_alerts(**data)


class AlertDetailView(generics.RetrieveAPIView):
    serializer_class = AlertDetailSerializer
    queryset = Alert.objects.all()


class AlertActionView(APIView):
    action = ""

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request, pk: int):
        alert = get_object_or_404(Alert, pk=pk)
        if self.action == "acknowledge":
            alert = services.alert_acknowledge(alert=alert, **_who(request))
        else:
            alert = services.alert_resolve(alert=alert, **_who(request))
        return Response(AlertSerializer(alert).data)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.EmailField(allow_null=True)


class AlertAssignView(APIView):
    @extend_schema(request=AssignSerializer, responses=AlertSerializer)
    def post(self, request, pk: int):
        alert = get_object_or_404(Alert, pk=pk)
        form = AssignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        email = form.validated_data["assignee"]
        assignee = None
        if email:
            assignee = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": ["No active user with this email."]})
        return Response(AlertSerializer(services.alert_assign(alert=alert, assignee=assignee, **_who(request))).data)


class AlertCommentsView(generics.ListCreateAPIView):
    serializer_class = CommentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no alert to look up
            return AlertComment.objects.none()
        return get_object_or_404(Alert, pk=self.kwargs["pk"]).comments.select_related("author")

    def perform_create(self, serializer):
        alert = get_object_or_404(Alert, pk=self.kwargs["pk"])
        comment = services.alert_comment(alert=alert, body=serializer.validated_data["body"], **_who(self.request))
        serializer.instance = comment


class ReceivedAlertSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=2000)
    severity = serializers.ChoiceField(Severity.values)
    diagnostic_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    site = serializers.CharField(max_length=128, required=False, allow_blank=True)
    value = serializers.CharField(max_length=64, required=False, allow_blank=True)
    status = serializers.ChoiceField(["firing", "resolved"], required=False, default="firing")


class ReceiveAlertView(APIView):
    """Outside systems push an alert into this tenant (one open alert per type and diagnostic)."""

    required_scope = "ingest"

    @extend_schema(
        request=ReceivedAlertSerializer,
        responses={201: AlertSerializer, 200: OpenApiResponse(AlertSerializer, description="An open alert again.")},
    )
    def post(self, request):
        form = ReceivedAlertSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        source = services.Source(
            type="external",
            id=data.get("diagnostic_id") or data["title"][:128],
            label=data["title"],
            site_id=data.get("site", ""),
            site_label=data.get("site", ""),
        )
        if data["status"] == "resolved":
            alert = services.resolve_condition(source=source, alert_type=data["type"])
            if alert is None:
                return Response(
                    {"error": "not_found", "detail": "No open alert matches.", "fields": {}},
                    status=status.HTTP_404_NOT_FOUND,
                )
            return Response(AlertSerializer(alert).data)
        raised = services.raise_alert(
            source=source,
            alert_type=data["type"],
            severity=data["severity"],
            message=data["message"],
            value=data.get("value") or None,
            labels={"diagnostic_id": data.get("diagnostic_id", ""), "title": data["title"]},
        )
        return Response(
            AlertSerializer(raised.alert).data, status=status.HTTP_201_CREATED if raised.created else status.HTTP_200_OK
        )


class RuleSerializer(ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", *AlertRule.EDITABLE_FIELDS]


class SilenceSerializer(ModelSerializer):
    author = EmailOfField("author")

    class Meta:
        model = Silence
        fields = ["id", "site_id", "source_id", "alert_type", "starts_at", "ends_at", "comment", "author", "created_at"]
        read_only_fields = ["author", "created_at"]

    def validate(self, attrs):
        if attrs.get("ends_at") and attrs.get("starts_at") and attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["Must come after starts_at."]})
        return attrs


class ChannelSerializer(ModelSerializer):
    webhook_secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "min_severity",
            "repeat_interval_minutes",
            "enabled",
            "email_recipients",
            "webhook_url",
            "webhook_secret",
            "has_secret",
            "webhook_format",
        ]

    def get_has_secret(self, channel) -> bool:
        return bool(channel.webhook_secret)

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if kind == Channel.Kind.EMAIL and not attrs.get(
            "email_recipients", getattr(self.instance, "email_recipients", "")
        ):
            raise serializers.ValidationError({"email_recipients": ["An email channel needs recipients."]})
        if kind == Channel.Kind.WEBHOOK and not attrs.get("webhook_url", getattr(self.instance, "webhook_url", "")):
            raise serializers.ValidationError({"webhook_url": ["A webhook channel needs a URL."]})
        return attrs


class ConfigurationWrites:
    """Creates, updates and deletes through `alerts.configuration`, so that each is audited."""

    entity: str  # the services' prefix: rule, channel, silence

    def _write(self, action: str, **kwargs):
        service = getattr(configuration, f"{self.entity}_{action}")
        return service(**_who(self.request), **kwargs)

    def perform_create(self, serializer):
        serializer.instance = self._write("create", **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._write("update", **{self.entity: serializer.instance}, **serializer.validated_data)

    def perform_destroy(self, instance):
        self._write("delete", **{self.entity: instance})


class RuleListView(ConfigurationWrites, generics.ListCreateAPIView):
    serializer_class = RuleSerializer
    queryset = AlertRule.objects.all()
    pagination_class = None
    entity = "rule"


class RuleDetailView(ConfigurationWrites, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = RuleSerializer
    queryset = AlertRule.objects.all()
    entity = "rule"


class SilenceListView(ConfigurationWrites, generics.ListCreateAPIView):
    serializer_class = SilenceSerializer
    queryset = Silence.objects.select_related("author")
    pagination_class = None
    entity = "silence"


class SilenceDetailView(ConfigurationWrites, generics.RetrieveDestroyAPIView):
    serializer_class = SilenceSerializer
    queryset = Silence.objects.all()
    entity = "silence"


class ChannelListView(ConfigurationWrites, generics.ListCreateAPIView):
    serializer_class = ChannelSerializer
    queryset = Channel.objects.all()
    pagination_class = None
    entity = "channel"


class ChannelDetailView(ConfigurationWrites, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = ChannelSerializer
    queryset = Channel.objects.all()
    entity = "channel"


class ChannelTestView(APIView):
    @extend_schema(
        request=None,
        responses={202: inline_serializer("TestDeliveryQueued", {"delivery": serializers.IntegerField()})},
    )
    def post(self, request, pk: int):
        delivery = fanout.send_test_notification(channel=get_object_or_404(Channel, pk=pk))
        return Response({"delivery": delivery.pk}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("alerts/", AlertListView.as_view(), name="alerts"),
    path("alerts/receive", ReceiveAlertView.as_view(), name="alerts-receive"),
    path("alerts/rules/", RuleListView.as_view(), name="alert-rules"),
    path("alerts/rules/<int:pk>", RuleDetailView.as_view(), name="alert-rule"),
    path("alerts/silences/", SilenceListView.as_view(), name="alert-silences"),
    path("alerts/silences/<int:pk>", SilenceDetailView.as_view(), name="alert-silence"),
    path("alerts/channels/", ChannelListView.as_view(), name="alert-channels"),
    path("alerts/channels/<int:pk>", ChannelDetailView.as_view(), name="alert-channel"),
    path("alerts/channels/<int:pk>/test", ChannelTestView.as_view(), name="alert-channel-test"),
    path("alerts/<int:pk>", AlertDetailView.as_view(), name="alert"),
    path("alerts/<int:pk>/acknowledge", AlertActionView.as_view(action="acknowledge"), name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve", AlertActionView.as_view(action="resolve"), name="alert-resolve"),
    path("alerts/<int:pk>/assign", AlertAssignView.as_view(), name="alert-assign"),
    path("alerts/<int:pk>/comments", AlertCommentsView.as_view(), name="alert-comments"),
]
