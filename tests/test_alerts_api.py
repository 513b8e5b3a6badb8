"""Alerts through the REST API and the portal, as integrators and operators use them."""

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from alerts.models import Alert

RECEIVED = {
    "type": "error",
    "title": "Erreur température",
    "message": "Température trop élevée!",
    "severity": "critical",
    "diagnostic_id": "DIAG-123",
}


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def receive(world, body=RECEIVED, token=None):
    return world.api(token).post("/api/v1/alerts/receive", body, content_type="application/json")


def test_an_outside_system_pushes_an_alert_in(alpha):
    response = receive(alpha)

    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["severity"], body["source_label"], body["status"]) == (
        "error",
        "critical",
        "Erreur température",
        "firing",
    )
    assert body["labels"]["diagnostic_id"] == "DIAG-123"
    again = receive(alpha)
    assert again.status_code == 200 and again.json()["occurrences"] == 2


def test_a_pushed_alert_can_be_resolved_by_its_sender(alpha):
    receive(alpha)

    response = receive(alpha, {**RECEIVED, "status": "resolved"})

    assert response.json()["status"] == "resolved"


def test_a_pushed_alert_with_bad_fields_names_them(alpha):
    response = receive(alpha, {"type": "error", "severity": "apocalyptic"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"title", "message", "severity"}


def test_the_alert_lifecycle_through_the_api(alpha):
    alert_id = receive(alpha).json()["id"]
    admin = alpha.http("admin")

    assert admin.post(f"/api/v1/alerts/{alert_id}/acknowledge").json()["status"] == "acknowledged"
    assigned = admin.post(
        f"/api/v1/alerts/{alert_id}/assign", {"assignee": "operator@alpha.test"}, content_type="application/json"
    )
    assert assigned.json()["assignee"] == "operator@alpha.test"
    admin.post(f"/api/v1/alerts/{alert_id}/comments", {"body": "Technicien envoyé"}, content_type="application/json")
    resolved = admin.post(f"/api/v1/alerts/{alert_id}/resolve").json()
    assert resolved["status"] == "resolved"

    detail = alpha.api(alpha.read_token).get(f"/api/v1/alerts/{alert_id}").json()
    assert [c["body"] for c in detail["comments"]] == ["Assigned to operator@alpha.test.", "Technicien envoyé"]


def test_alerts_are_listed_with_filters(alpha):
    receive(alpha)
    receive(alpha, {**RECEIVED, "type": "info-notice", "severity": "info", "diagnostic_id": "D2"})
    api = alpha.api(alpha.read_token)

    assert api.get("/api/v1/alerts/", {"severity": "critical"}).json()["count"] == 1
    assert api.get("/api/v1/alerts/", {"status": "open"}).json()["count"] == 2
    assert api.get("/api/v1/alerts/", {"severity": "nope"}).json()["fields"]["severity"]


def test_another_tenants_alert_is_not_found(alpha, beta):
    alert_id = receive(alpha).json()["id"]
    with schema_context("beta"):
        assert not Alert.objects.filter(pk=alert_id).exists()

    assert beta.api().get(f"/api/v1/alerts/{alert_id}").status_code == 404
    assert beta.http("admin").post(f"/alerts/{alert_id}/action/", {"action": "resolve"}).status_code == 404


def test_channels_and_silences_through_the_api(alpha):
    admin = alpha.http("admin")
    bad = admin.post("/api/v1/alerts/channels/", {"name": "x", "kind": "webhook"}, content_type="application/json")
    assert bad.status_code == 400 and "webhook_url" in bad.json()["fields"]
    channel = admin.post(
        "/api/v1/alerts/channels/",
        {"name": "Ops", "kind": "webhook", "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": "k"},
        content_type="application/json",
    ).json()
    assert channel["has_secret"] is True and "webhook_secret" not in channel

    silence = admin.post(
        "/api/v1/alerts/silences/",
        {"comment": "maintenance", "starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-01T09:00:00Z"},
        content_type="application/json",
    )
    assert silence.status_code == 400 and "ends_at" in silence.json()["fields"]


def test_operators_act_on_alerts_in_the_portal_and_viewers_cannot(alpha):
    alert_id = receive(alpha).json()["id"]

    assert alpha.http("viewer").post(f"/alerts/{alert_id}/action/", {"action": "resolve"}).status_code == 403
    operator = alpha.http("operator")
    operator.post(f"/alerts/{alert_id}/action/", {"action": "comment", "body": "Je regarde"})
    operator.post(f"/alerts/{alert_id}/action/", {"action": "acknowledge"})
    page = operator.get(f"/alerts/{alert_id}/").content.decode()

    assert "Je regarde" in page and "Acknowledged" in page


def test_the_alert_list_filters_by_severity(alpha):
    receive(alpha)
    receive(
        alpha, {**RECEIVED, "type": "notice", "severity": "info", "diagnostic_id": "D2", "message": "Juste une info"}
    )

    page = alpha.http("viewer").get("/alerts/", {"severity": "info"}).content.decode()

    assert "Juste une info" in page and "Température trop élevée" not in page


def test_an_operator_ends_a_silence_early(alpha):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import Silence

    with schema_context("alpha"):
        silence = Silence.objects.create(
            comment="swap", starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=1)
        )

    response = alpha.http("operator").post(f"/alerts/silences/{silence.pk}/end/")

    assert response.status_code == 302
    with schema_context("alpha"):
        assert Silence.objects.get(pk=silence.pk).ends_at <= timezone.now()
