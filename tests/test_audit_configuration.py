"""Changes to the alert engine's configuration — rules, channels, silences — from the portal or the
API, are in the tenant's audit log: who, what, and which fields changed (secrets never shown)."""

from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import AuditLog
from alerts.models import AlertRule, Channel

RULE = {
    "name": "Hot pack",
    "source_type": "battery",
    "metric": "temperature",
    "operator": ">",
    "threshold": "60",
    "severity": "critical",
    "alert_type": "overheat",
    "message": "Too hot: {value}",
    "scope": "all",
    "scope_site_id": "",
    "scope_source_id": "",
    "for_minutes": "0",
    "enabled": "on",
}


def entries(world, action: str) -> list[AuditLog]:
    with schema_context(world.slug):
        found = list(AuditLog.objects.filter(action=action).order_by("pk"))
    connection.set_schema_to_public()
    return found


def test_a_rule_an_admin_adds_in_the_portal_is_in_the_audit_log(alpha):
    assert alpha.http("admin").post("/alerts/rules/", RULE).status_code == 302

    [entry] = entries(alpha, "alert_rule.created")
    assert entry.actor_label == "admin@alpha.test"
    assert entry.target_label == "battery.temperature > 60 → critical"
    assert entry.details["fields"]["threshold"] == 60.0


def test_a_rule_changed_through_the_api_records_the_key_and_the_change(alpha):
    with schema_context(alpha.slug):
        rule = AlertRule.objects.create(**{**RULE, "threshold": 60, "for_minutes": 0, "enabled": True})
    connection.set_schema_to_public()

    response = alpha.api().patch(f"/api/v1/alerts/rules/{rule.pk}", {"threshold": 65}, content_type="application/json")

    assert response.status_code == 200 and response.json()["threshold"] == 65
    [entry] = entries(alpha, "alert_rule.changed")
    assert entry.details["changes"] == {"threshold": [60.0, 65]}
    assert entry.actor is None and alpha.api_token.startswith(entry.details["api_key"])


def test_a_channel_s_new_secret_is_recorded_as_changed_but_never_shown(alpha):
    with schema_context(alpha.slug):
        channel = Channel.objects.create(
            name="Ops", kind="webhook", webhook_url="https://ops.test/h", webhook_secret="old"
        )
    connection.set_schema_to_public()
    form = {"name": "Ops", "kind": "webhook", "min_severity": "warning", "repeat_interval_minutes": 60,
            "webhook_url": "https://ops.test/h", "webhook_secret": "new-secret", "webhook_format": "voltwatch",
            "enabled": "on"}  # fmt: skip

    assert alpha.http("admin").post(f"/alerts/channels/{channel.pk}/", form).status_code == 302

    [entry] = entries(alpha, "channel.changed")
    assert entry.details["changes"]["webhook_secret"] == ["•••", "•••"]
    assert "new-secret" not in str(entry.details)
    with schema_context(alpha.slug):
        assert Channel.objects.get(pk=channel.pk).webhook_secret == "new-secret"
    connection.set_schema_to_public()


def test_a_silence_deleted_through_the_api_is_in_the_audit_log(alpha):
    made = alpha.api().post(
        "/api/v1/alerts/silences/",
        {"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2036-01-01T00:00:00Z", "comment": "battery swap"},
        content_type="application/json",
    )
    assert made.status_code == 201

    assert alpha.api().delete(f"/api/v1/alerts/silences/{made.json()['id']}").status_code == 204

    assert [entry.details.get("fields", {}).get("comment") for entry in entries(alpha, "silence.created")] == [
        "battery swap"
    ]
    assert len(entries(alpha, "silence.deleted")) == 1
