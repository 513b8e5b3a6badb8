"""The asset hierarchy: a client's types with their own custom fields, sites, batteries and meters."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import AuditLog
from telemetry.models import Battery

MODULE_TYPE = {
    "name": "Rack 48V",
    "kind": "battery",
    "custom_fields": [
        {"name": "warranty_until", "label": "Warranty until", "kind": "date", "required": True},
        {"name": "rack_slots", "kind": "number", "unit": "slots"},
        {"name": "supplier", "kind": "choice", "choices": ["EDS", "Other"]},
    ],
}


@pytest.fixture
def api(alpha):
    return alpha.http("operator")


def create(api, path, body):
    return api.post(f"/api/v1/telemetry/{path}/", body, content_type="application/json")


@pytest.fixture
def rack_type(api):
    create(api, "sites", {"name": "Lyon dépôt", "code": "lyon"})
    return create(api, "types", MODULE_TYPE).json()["id"]


def battery(type_id, **changes):
    body = {
        "site": "lyon",
        "type": type_id,
        "name": "Pack A",
        "serial": "SN-001",
        "chemistry": "lifepo4",
        "nominal_voltage": 51.2,
        "capacity_ah": 100,
        "cell_count": 16,
        "connector": "thingset",
        "custom_values": {"warranty_until": "2030-06-30", "rack_slots": "4", "supplier": "EDS"},
    }
    body.update(changes)
    return body


def test_a_battery_carries_its_types_custom_values_normalised(api, rack_type):
    response = create(api, "batteries", battery(rack_type))

    assert response.status_code == 201
    assert response.json()["custom_values"] == {"warranty_until": "2030-06-30", "rack_slots": 4.0, "supplier": "EDS"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"rack_slots": 2}, "custom_values.warranty_until"),
        ({"warranty_until": "soon"}, "custom_values.warranty_until"),
        ({"warranty_until": "2030-01-01", "supplier": "ACME"}, "custom_values.supplier"),
        ({"warranty_until": "2030-01-01", "colour": "red"}, "custom_values.colour"),
    ],
)
def test_wrong_custom_values_are_refused_naming_the_field(api, rack_type, values, field):
    response = create(api, "batteries", battery(rack_type, custom_values=values))

    assert response.status_code == 400
    assert field in response.json()["fields"]
    with schema_context("alpha"):
        assert not Battery.objects.exists()


def test_a_type_with_broken_field_definitions_is_refused(api):
    response = create(api, "types", {"name": "Bad", "custom_fields": [{"name": "x", "kind": "choice"}]})

    assert response.status_code == 400
    assert "custom_fields[0]" in str(response.json()["fields"])


def test_batteries_are_filtered_by_site_type_chemistry_and_text(api, rack_type):
    create(api, "batteries", battery(rack_type))
    create(api, "batteries", battery(rack_type, serial="SN-002", name="Pack B", chemistry="ncm"))

    assert api.get("/api/v1/telemetry/batteries/", {"chemistry": "ncm"}).json()["count"] == 1
    assert api.get("/api/v1/telemetry/batteries/", {"site": "lyon"}).json()["count"] == 2
    assert api.get("/api/v1/telemetry/batteries/", {"search": "SN-002"}).json()["count"] == 1


def test_viewers_read_assets_but_cannot_change_them(alpha, api, rack_type):
    viewer = alpha.http("viewer")

    assert viewer.get("/api/v1/telemetry/types/").status_code == 200
    assert create(viewer, "batteries", battery(rack_type)).status_code == 403


def test_another_tenants_battery_is_not_found(alpha, beta, api, rack_type):
    battery_id = create(api, "batteries", battery(rack_type)).json()["id"]

    assert beta.http("admin").get(f"/api/v1/telemetry/batteries/{battery_id}/").status_code == 404


def test_a_meter_keeps_the_seeds_alert_threshold(api, rack_type):
    response = create(
        api,
        "meters",
        {"site": "lyon", "name": "Borne 1", "device_id": "shellypro1pm-a8032ab1c2d4", "power_alert_threshold": 3500},
    )

    assert response.status_code == 201
    assert response.json()["model"] == "Shelly Pro 1PM" and response.json()["power_alert_threshold"] == 3500


def test_a_site_still_holding_batteries_is_not_deleted_and_the_answer_says_why(api, rack_type):
    assert create(api, "batteries", battery(rack_type)).status_code == 201
    site_id = next(
        site["id"] for site in api.get("/api/v1/telemetry/sites/").json()["results"] if site["code"] == "lyon"
    )

    response = api.delete(f"/api/v1/telemetry/sites/{site_id}/")

    assert response.status_code == 409
    assert response.json() == {
        "error": "in_use",
        "detail": "Nothing was deleted: it is still used by batteries (1). Move or delete those first.",
        "fields": {},
        "using": {"batteries": 1},
    }
    assert api.get(f"/api/v1/telemetry/sites/{site_id}/").status_code == 200


def test_a_type_still_given_to_batteries_is_not_deleted(api, rack_type):
    assert create(api, "batteries", battery(rack_type)).status_code == 201

    response = api.delete(f"/api/v1/telemetry/types/{rack_type}/")

    assert (response.status_code, response.json()["using"]) == (409, {"batteries": 1})


def test_a_type_that_was_not_deleted_leaves_no_deletion_in_the_audit_log(api, rack_type):
    assert create(api, "batteries", battery(rack_type)).status_code == 201

    assert api.delete(f"/api/v1/telemetry/types/{rack_type}/").status_code == 409

    with schema_context("alpha"):
        assert not AuditLog.objects.filter(action="asset_type.deleted").exists()
