"""One object of each kind the API manages, made through the API itself (so they are as a client
would leave them), for the suites that walk every operation of the OpenAPI document."""

from collections.abc import Callable

DEVICE = "club-1"


def one_of_each(post: Callable[[str, dict], dict]) -> dict[str, dict]:
    """`post(path, body)` → the created object's JSON. Returns each object's JSON by its kind."""
    site = post("/api/v1/telemetry/sites/", {"name": "Lyon", "code": "lyon", "time_zone": "Europe/Paris"})
    battery_type = post("/api/v1/telemetry/types/", {"name": "Pack", "kind": "battery"})
    meter_type = post("/api/v1/telemetry/types/", {"name": "Borne", "kind": "meter"})
    rule = {
        "name": "Hot",
        "source_type": "battery",
        "metric": "temperature",
        "operator": ">",
        "threshold": 60,
        "severity": "critical",
        "alert_type": "overheat",
        "message": "Too hot",
    }
    silence = {"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2036-01-01T00:00:00Z", "comment": "works"}
    alert = {"type": "door_open", "title": "Door", "message": "The door is open", "severity": "warning"}
    return {
        "site": site,
        "type": battery_type,
        "battery": post(
            "/api/v1/telemetry/batteries/",
            {"site": "lyon", "type": battery_type["id"], "name": "Pack 1", "serial": "SN-1"},
        ),
        "meter": post(
            "/api/v1/telemetry/meters/",
            {"site": "lyon", "type": meter_type["id"], "name": "Borne 1", "device_id": "shelly-1"},
        ),
        "alert": post("/api/v1/alerts/receive", alert),
        "rule": post("/api/v1/alerts/rules/", rule),
        "silence": post("/api/v1/alerts/silences/", silence),
        "channel": post("/api/v1/alerts/channels/", {"name": "Ops", "kind": "email", "email_recipients": "o@b.test"}),
        "device": post("/api/v1/fleet/heartbeat", {"siteId": DEVICE, "agentVersion": "1.0"}),
    }
