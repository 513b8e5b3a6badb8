"""What people do to alerts — acknowledge, assign, comment, resolve — from the portal or the API is in
the tenant's audit log, which its admins read under Settings → Audit log: who (a person, or an API
key), what, on which alert, from where."""

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.models import AuditLog

RECEIVED = {"type": "error", "title": "Pack Cesson", "message": "Hot", "severity": "critical", "diagnostic_id": "D1"}
ALERT_LABEL = "[critical] Pack Cesson - error"


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def firing_alert(world) -> int:
    response = world.api().post("/api/v1/alerts/receive", RECEIVED, content_type="application/json")
    assert response.status_code == 201
    return response.json()["id"]


def entries(world, prefix: str = "alert.") -> list[AuditLog]:
    with schema_context(world.slug):
        found = list(AuditLog.objects.filter(action__startswith=prefix).order_by("pk"))
    connection.set_schema_to_public()
    return found


def test_an_alert_acknowledged_through_the_api_records_the_key_and_the_alert(alpha):
    alert_id = firing_alert(alpha)

    response = alpha.api().post(f"/api/v1/alerts/{alert_id}/acknowledge")

    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    [entry] = entries(alpha)
    assert (entry.action, entry.target_type, entry.target_id, entry.target_label) == (
        "alert.acknowledged",
        "Alert",
        str(alert_id),
        ALERT_LABEL,
    )
    assert entry.actor is None and alpha.api_token.startswith(entry.details["api_key"])
    assert entry.actor_label == f"API key {entry.details['api_key']}"
    page = alpha.http("admin").get("/settings/audit-log/").content.decode()
    assert "alert.acknowledged" in page and f"API key {entry.details['api_key']}" in page


def test_an_alert_acknowledged_in_the_portal_shows_who_in_the_audit_log(alpha):
    alert_id = firing_alert(alpha)

    response = alpha.http("operator").post(f"/alerts/{alert_id}/action/", {"action": "acknowledge"})

    assert response.status_code == 302
    [entry] = entries(alpha)
    assert (entry.action, entry.actor_label, entry.target_id, entry.ip_address) == (
        "alert.acknowledged",
        "operator@alpha.test",
        str(alert_id),
        "127.0.0.1",
    )
    with schema_context(alpha.slug):
        assert entry.actor.email == "operator@alpha.test"
    connection.set_schema_to_public()
    page = alpha.http("admin").get("/settings/audit-log/").content.decode()
    assert "alert.acknowledged" in page and ALERT_LABEL in page and "operator@alpha.test" in page


def test_acknowledging_an_acknowledged_alert_again_records_nothing_more(alpha):
    alert_id = firing_alert(alpha)
    operator = alpha.http("operator")

    operator.post(f"/alerts/{alert_id}/action/", {"action": "acknowledge"})
    operator.post(f"/alerts/{alert_id}/action/", {"action": "acknowledge"})

    assert [entry.action for entry in entries(alpha)] == ["alert.acknowledged"]


def test_assigning_commenting_and_resolving_in_the_portal_are_each_recorded(alpha):
    alert_id = firing_alert(alpha)
    admin = alpha.http("admin")
    operator_pk = alpha.users["operator"].pk

    admin.post(f"/alerts/{alert_id}/action/", {"action": "assign", "assignee": operator_pk})
    admin.post(f"/alerts/{alert_id}/action/", {"action": "comment", "body": "Technician on the way"})
    admin.post(f"/alerts/{alert_id}/action/", {"action": "resolve"})
    admin.post(f"/alerts/{alert_id}/action/", {"action": "resolve"})  # resolved already: nothing happens

    recorded = entries(alpha)
    assert [(entry.action, entry.actor_label) for entry in recorded] == [
        ("alert.assigned", "admin@alpha.test"),
        ("alert.commented", "admin@alpha.test"),
        ("alert.resolved", "admin@alpha.test"),
    ]
    assert recorded[0].details == {"assignee": "operator@alpha.test"}
    assert recorded[1].details == {"body": "Technician on the way"}


def test_a_comment_through_the_api_names_the_key_in_the_log_and_nobody_as_its_author(alpha):
    alert_id = firing_alert(alpha)

    made = alpha.api().post(
        f"/api/v1/alerts/{alert_id}/comments", {"body": "Seen by the NOC"}, content_type="application/json"
    )

    assert made.status_code == 201 and made.json()["author"] is None
    [entry] = entries(alpha)
    assert entry.action == "alert.commented" and alpha.api_token.startswith(entry.details["api_key"])


def test_a_silence_an_operator_creates_in_the_portal_is_in_the_audit_log(alpha):
    form = {"site_id": "cesson", "starts_at": "2026-01-01T08:00", "ends_at": "2026-01-01T12:00", "comment": "Swap"}

    assert alpha.http("operator").post("/alerts/silences/", form).status_code == 302

    [entry] = entries(alpha, "silence.")
    assert (entry.action, entry.actor_label, entry.details["fields"]["site_id"]) == (
        "silence.created",
        "operator@alpha.test",
        "cesson",
    )
