"""What a notification says (the seed's email template and webhook body) and how it is sent."""

import hashlib
import hmac
import json
import time

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.models import Alert, Channel, Delivery
from tenants.selectors import current_tenant, tenant_url

SIGNATURE_HEADER = "X-Voltwatch-Signature"
WEBHOOK_TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def alert_link(alert: Alert) -> str:
    tenant = current_tenant()
    path = settings.ALERT_LINK_PATH.format(id=alert.pk)
    return tenant_url(tenant, path) if tenant else path


def _local(moment):
    tenant = current_tenant()
    zone = tenant.timezone if tenant else "UTC"
    from zoneinfo import ZoneInfo

    return timezone.localtime(moment, ZoneInfo(zone))


def email_message(alert: Alert | None, event: str) -> tuple[str, str]:
    """Subject and body, following the customer's template: `[Voltwatch CRITICAL] CESSON - temperature`."""
    tenant = current_tenant()
    with translation.override(tenant.language if tenant else "en"):
        if alert is None:
            subject = _("[Voltwatch TEST] Test notification")
            body = _("This is a test notification from Voltwatch. If you read it, the channel works.")
            return subject, body
        prefix = {"resolved": _("RESOLVED"), "repeat": _("REMINDER")}.get(event, "")
        level = alert.severity.upper()
        where = alert.site_label or alert.source_label or alert.source_id
        subject = f"[Voltwatch {level}{' ' + prefix if prefix else ''}] {where} - {alert.type}"
        title = _("Voltwatch alert")
        fields = [
            (_("Site"), alert.site_label or "—"),
            (_("Source"), alert.source_label or alert.source_id),
            (_("Site ID"), alert.source_id),
            (_("Level"), level),
            (_("Type"), alert.type),
            (_("Message"), alert.message),
        ]
        if alert.value:
            fields.append((_("Value"), alert.value))
        moment = alert.resolved_at if event == "resolved" and alert.resolved_at else alert.last_seen
        fields.append((_("Date"), f"{_local(moment):%d/%m/%Y %H:%M:%S}"))
        lines = [f"{title} — {prefix}" if prefix else title]
        lines += [f"{label}: {value}" for label, value in fields]
        lines += ["", alert_link(alert)]
        return subject, "\n".join(lines)


def webhook_body(alert: Alert | None, event: str, channel: Channel) -> dict:
    """The seed's fields (siteId, clubName, alert{level,type,message,value}, timestamp) and more."""
    if alert is None:
        body = {
            "siteId": "",
            "clubName": "",
            "status": "test",
            "timestamp": int(time.time()),
            "alert": {"level": "info", "type": "test", "message": "Voltwatch test notification", "value": ""},
        }
    else:
        moment = alert.resolved_at if event == "resolved" and alert.resolved_at else alert.last_seen
        body = {
            "siteId": alert.source_id,
            "clubName": alert.site_label,
            "alert": {"level": alert.severity, "type": alert.type, "message": alert.message, "value": alert.value},
            "timestamp": int(moment.timestamp()),
            "status": "resolved" if event == "resolved" else "firing",
            "event": event,
            "fingerprint": alert.fingerprint,
            "source": {"type": alert.source_type, "id": alert.source_id, "label": alert.source_label},
            "site": {"id": alert.site_id, "label": alert.site_label},
            "firstSeen": alert.first_seen.isoformat(),
            "occurrences": alert.occurrences,
            "url": alert_link(alert),
        }
    if channel.webhook_format == Channel.WebhookFormat.SLACK:
        level, text = body["alert"]["level"].upper(), body["alert"]["message"]
        icon = {"CRITICAL": ":red_circle:", "WARNING": ":warning:"}.get(level, ":information_source:")
        status = "RESOLVED " if body["status"] == "resolved" else ""
        return {
            "text": f"{icon} {status}[{level}] {body['clubName'] or body['siteId']} - {body['alert']['type']}: {text}",
            "voltwatch": body,
        }
    return body


def signature(secret: str, payload: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def send(delivery: Delivery) -> int | None:
    """Send one delivery; return the HTTP status for webhooks. Raise DeliveryFailed when it did not go."""
    channel, alert = delivery.channel, delivery.alert
    if channel.kind == Channel.Kind.EMAIL:
        if not channel.recipients:
            raise DeliveryFailed("the channel has no recipients")
        subject, body = email_message(alert, delivery.event)
        try:
            EmailMessage(subject, body, None, channel.recipients).send()
        except OSError as exc:
            raise DeliveryFailed(f"SMTP: {exc}") from exc
        return None
    payload = json.dumps(webhook_body(alert, delivery.event, channel), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Voltwatch-Webhook/1",
        "X-Voltwatch-Event": delivery.event,
        "X-Voltwatch-Delivery": str(delivery.pk),
    }
    if channel.webhook_secret:
        headers[SIGNATURE_HEADER] = signature(channel.webhook_secret, payload)
    try:
        response = httpx.post(channel.webhook_url, content=payload, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}", response.status_code)
    return response.status_code
