"""The portal's battery, meter and site pages, as each role sees them."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from telemetry.models import AssetType, Battery
from tests.factories import make_battery, make_meter


def send(world, kind, ref, values, time="2026-11-24T10:00:00Z"):
    body = {"kind": kind, "readings": [{"asset": ref, "time": time, "values": values}]}
    response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
    assert response.status_code == 201


@pytest.fixture
def packs(alpha):
    lyon = make_battery(alpha, name="Lyon pack", chemistry="lifepo4")
    other = make_battery(alpha, name="Nantes pack", chemistry="ncm")
    send(alpha, "battery", lyon.serial, {"voltage": 51.7, "soc": 88, "cell_voltages": [3.31, 3.29]})
    return lyon, other


def test_the_battery_list_shows_latest_values(alpha, packs):
    page = alpha.http("viewer").get("/batteries/")
    assert page.status_code == 200
    assert "Lyon pack" in page.text and "51.70" in page.text


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("chemistry=ncm", "Nantes pack", "Lyon pack"),
    ("search=nantes", "Nantes pack", "Lyon pack"),
    ("state=new", "Nantes pack", "Lyon pack"),
    ("state=ok", "Lyon pack", "Nantes pack"),
])  # fmt: skip
def test_the_battery_list_filters(alpha, packs, query, shown, hidden):
    page = alpha.http("viewer").get(f"/batteries/?{query}")
    assert shown in page.text and hidden not in page.text


def test_a_battery_page_shows_its_latest_values_and_cells(alpha, packs):
    lyon, _other = packs
    page = alpha.http("viewer").get(f"/battery/{lyon.pk}/")
    assert page.status_code == 200
    assert "51.7" in page.text and "3.31 · 3.29" in page.text


def test_a_viewer_sees_no_edit_button_and_cannot_open_forms(alpha, packs):
    lyon, _other = packs
    viewer = alpha.http("viewer")
    assert "/edit/" not in viewer.get(f"/battery/{lyon.pk}/").text
    assert viewer.get(f"/battery/{lyon.pk}/edit/").status_code == 403
    assert viewer.get("/battery/new/").status_code == 403


def test_an_operator_creates_a_battery_with_its_types_custom_values(alpha):
    make_battery(alpha)  # the site exists
    with schema_context(alpha.slug):
        rack = AssetType.objects.create(
            name="Rack 48V", kind="battery",
            custom_fields=[{"name": "warranty_until", "label": "Warranty until", "kind": "date", "required": True,
                            "unit": "", "choices": []}],
        )  # fmt: skip
        site_id = Battery.objects.first().site_id
    connection.set_schema_to_public()
    operator = alpha.http("operator")
    form = {"name": "New pack", "serial": "NEW-1", "site": site_id, "chemistry": "lifepo4", "connector": "generic",
            "silent_after_minutes": 15, "threshold_cell_overvoltage": "3.65"}  # fmt: skip
    refused = operator.post(f"/battery/new/?type={rack.pk}", {**form, "custom_warranty_until": ""})
    assert refused.status_code == 200 and "errorlist" in refused.text
    created = operator.post(f"/battery/new/?type={rack.pk}", {**form, "custom_warranty_until": "2031-01-31"})
    assert created.status_code == 302
    with schema_context(alpha.slug):
        battery = Battery.objects.get(serial="NEW-1")
        assert battery.custom_values == {"warranty_until": "2031-01-31"}
        from telemetry.services import asset_thresholds

        assert asset_thresholds("battery", battery) == {"cell_overvoltage": 3.65}
    connection.set_schema_to_public()


def test_another_tenants_battery_is_a_plain_404(alpha, beta):
    theirs = make_battery(beta)
    viewer = alpha.http("viewer")
    assert viewer.get(f"/battery/{theirs.pk}/").status_code == 404
    assert viewer.get("/battery/99999999/").status_code == 404


def test_a_meter_page_warns_above_its_power_threshold_with_the_last_measurements(alpha):
    meter = make_meter(alpha, power_alert_threshold=3500)
    for second, power in enumerate([1200.0, 3890.5]):
        send(alpha, "meter", meter.device_id, {"power": power, "voltage": 230.0}, time=f"2026-11-24T10:00:0{second}Z")
    page = alpha.http("viewer").get(f"/meter/{meter.pk}/")
    assert "Power above the alert threshold" in page.text
    assert 'id="threshold-alert" class="card alert-banner" role="alert" hidden' not in page.text
    assert "3890.5" in page.text and "1200.0" in page.text


def test_a_site_page_lists_its_batteries_and_meters(alpha, packs):
    make_meter(alpha, name="Borne Lyon")
    page = alpha.http("viewer").get("/sites/lyon/")
    assert page.status_code == 200
    assert "Lyon pack" in page.text and "Borne Lyon" in page.text


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_battery_list_exports(alpha, packs, fmt):
    response = alpha.http("viewer").get(f"/battery/export/{fmt}?chemistry=lifepo4")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if fmt == "csv" else response.content
    if fmt == "csv":
        assert "Lyon pack" in body.decode() and "Nantes pack" not in body.decode()


def test_an_operator_creates_an_ingest_key_bound_to_the_battery(alpha, packs):
    lyon, _other = packs
    operator = alpha.http("operator")
    operator.post(f"/battery/{lyon.pk}/key/")
    page = operator.get(f"/battery/{lyon.pk}/")
    token = page.text.split('data-testid="asset-key">')[1].split("<")[0]
    assert (
        alpha.api(token)
        .post(
            "/api/v1/telemetry/readings",
            {"readings": [{"asset": lyon.serial, "time": "2026-11-24T11:00:00Z", "values": {"soc": 50}}]},
            content_type="application/json",
        )
        .status_code
        == 201
    )


def test_deleting_a_battery_revokes_the_keys_bound_to_it(alpha, packs):
    lyon, _other = packs
    operator = alpha.http("operator")
    operator.post(f"/battery/{lyon.pk}/key/")
    token = operator.get(f"/battery/{lyon.pk}/").text.split('data-testid="asset-key">')[1].split("<")[0]
    assert alpha.http("admin").post(f"/battery/{lyon.pk}/delete/").status_code == 302
    response = alpha.api(token).post(
        "/api/v1/telemetry/readings",
        {"readings": [{"asset": lyon.serial, "time": "2026-11-24T11:00:00Z", "values": {"soc": 50}}]},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_an_integrator_exports_the_battery_list_through_the_api(alpha, packs):
    response = alpha.api(alpha.read_token).get("/api/v1/telemetry/battery-list/export/csv?chemistry=lifepo4")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Lyon pack" in body and "Nantes pack" not in body and "51.7" in body
