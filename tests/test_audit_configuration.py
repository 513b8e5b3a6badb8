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


def test_a_site_an_operator_adds_in_the_portal_is_in_the_audit_log(alpha):
    response = alpha.http("operator").post("/sites/new/", {"name": "Grenoble", "code": "grenoble", "time_zone": ""})
    assert response.status_code == 302

    [entry] = entries(alpha, "site.created")
    assert (entry.actor_label, entry.target_label) == ("operator@alpha.test", "Grenoble")
    assert entry.details["fields"]["code"] == "grenoble"


def test_a_battery_renamed_through_the_api_records_the_change(alpha):
    from tests.factories import make_battery

    battery = make_battery(alpha, name="Pack A")
    renamed = alpha.api().patch(
        f"/api/v1/telemetry/batteries/{battery.pk}/", {"name": "Pack B"}, content_type="application/json"
    )

    assert renamed.status_code == 200 and renamed.json()["name"] == "Pack B"
    [entry] = entries(alpha, "battery.changed")
    assert entry.details["changes"] == {"name": ["Pack A", "Pack B"]}


def test_a_dbc_uploaded_on_a_type_is_audited_by_its_length_not_its_text(alpha):
    signals = "".join(f' SG_ Cell{n} : {8 * n}|8@1+ (1,0) [0|255] "V" Vector__XXX\n' for n in range(8))
    dbc = f'VERSION ""\n\nBO_ 1 Node: 8 Vector__XXX\n{signals}'
    body = {"name": "Rack", "kind": "battery", "can_database": dbc}

    made = alpha.api().post("/api/v1/telemetry/types/", body, content_type="application/json")

    assert made.status_code == 201, made.content
    [created] = entries(alpha, "asset_type.created")
    assert created.details["fields"]["can_database"] == f"({len(dbc.strip()):,} characters)"


def test_deleting_a_meter_through_the_api_is_in_the_audit_log(alpha):
    from tests.factories import make_meter

    meter = make_meter(alpha, name="Borne 7")
    assert alpha.api().delete(f"/api/v1/telemetry/meters/{meter.pk}/").status_code == 204

    [entry] = entries(alpha, "meter.deleted")
    assert entry.target_label.startswith("Borne 7")


def test_a_rule_changed_in_the_company_s_admin_site_is_in_the_audit_log(alpha):
    with schema_context(alpha.slug):
        rule = AlertRule.objects.create(**{**RULE, "threshold": 60, "for_minutes": 0, "enabled": True})
    connection.set_schema_to_public()

    response = alpha.http("admin").post(f"/admin/alerts/alertrule/{rule.pk}/change/", {**RULE, "threshold": "65"})

    assert response.status_code == 302
    [entry] = entries(alpha, "alert_rule.changed")
    assert (entry.actor_label, entry.details["changes"]) == ("admin@alpha.test", {"threshold": [60.0, 65.0]})
    with schema_context(alpha.slug):
        assert AlertRule.objects.get(pk=rule.pk).threshold == 65
    connection.set_schema_to_public()


def test_a_silence_added_and_deleted_in_the_company_s_admin_site_is_in_the_audit_log(alpha):
    admin = alpha.http("admin")
    window = {"starts_at_0": "2026-01-01", "starts_at_1": "08:00", "ends_at_0": "2026-01-01", "ends_at_1": "12:00"}

    backwards = admin.post("/admin/alerts/silence/add/", {**window, "ends_at_1": "07:00", "comment": "Swap"})
    added = admin.post("/admin/alerts/silence/add/", {**window, "comment": "Swap", "site_id": "cesson"})

    assert backwards.status_code == 200 and "The end must come after the start." in backwards.content.decode()
    assert added.status_code == 302
    [created] = entries(alpha, "silence.created")
    assert (created.actor_label, created.details["fields"]["site_id"]) == ("admin@alpha.test", "cesson")
    assert admin.post(f"/admin/alerts/silence/{created.target_id}/delete/", {"post": "yes"}).status_code == 302
    assert [entry.target_id for entry in entries(alpha, "silence.deleted")] == [created.target_id]
