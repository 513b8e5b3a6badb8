"""The portal's battery, meter, site and type pages, as each role sees them."""

import io
import re
import zipfile
import zlib
from unittest import mock

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from sites.models import Site
from telemetry import listing
from telemetry.models import AssetType, Battery, Meter
from telemetry.services import asset_thresholds, set_asset_thresholds
from tests.factories import make_battery, make_meter


def send(world, kind, ref, values, time="2026-11-24T10:00:00Z"):
    body = {"kind": kind, "readings": [{"asset": ref, "time": time, "values": values}]}
    response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
    assert response.status_code == 201, response.content


def in_schema(world, function, *args, **kwargs):
    with schema_context(world.slug):
        result = function(*args, **kwargs)
    connection.set_schema_to_public()
    return result


def asset_key_on(page) -> str:
    return page.text.split('data-testid="asset-key">')[1].split("<")[0]


@pytest.fixture
def rack_type(alpha):
    return in_schema(
        alpha,
        AssetType.objects.create,
        name="Rack 48V",
        kind="battery",
        custom_fields=[
            {"name": "warranty_until", "label": "Warranty until", "kind": "date", "required": True, "unit": "",
             "choices": []},
            {"name": "supplier", "label": "Supplier", "kind": "choice", "required": False, "unit": "",
             "choices": ["EDS", "Other"]},
        ],
    )  # fmt: skip


@pytest.fixture
def packs(alpha):
    """Lyon pack (LiFePO4, reported) at Lyon; Nantes pack (NCM, never reported) at Nantes."""
    lyon = make_battery(alpha, name="Lyon pack", chemistry="lifepo4", serial="LY-0001")
    nantes_site = in_schema(alpha, Site.objects.create, code="nantes", name="Nantes quai")
    other = make_battery(alpha, name="Nantes pack", chemistry="ncm", site=nantes_site, serial="NA-0002")
    send(alpha, "battery", lyon.serial, {"voltage": 51.7, "soc": 88, "cell_voltages": [3.31, 3.29]})
    return lyon, other


def battery_form(site_id, **extra):
    form = {"name": "New pack", "serial": "NEW-1", "site": site_id, "chemistry": "lifepo4", "connector": "generic",
            "silent_after_minutes": 15}  # fmt: skip
    return {**form, **extra}


# --- Lists --------------------------------------------------------------------------------------------


def test_the_battery_list_shows_each_batterys_latest_values(alpha, packs):
    page = alpha.http("viewer").get("/batteries/")
    assert page.status_code == 200
    assert "Lyon pack" in page.text and "51.70" in page.text and "88.0" in page.text


def test_the_battery_list_reads_all_latest_values_at_once(alpha, packs):
    with mock.patch.object(listing, "latest", wraps=listing.latest) as reads:
        alpha.http("viewer").get("/batteries/")
    assert reads.call_count == 1


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("site=nantes", "Nantes pack", "Lyon pack"),
    ("chemistry=ncm", "Nantes pack", "Lyon pack"),
    ("state=new", "Nantes pack", "Lyon pack"),
    ("state=ok", "Lyon pack", "Nantes pack"),
    ("search=nantes", "Nantes pack", "Lyon pack"),
    ("search=LY-00", "Lyon pack", "Nantes pack"),
    ("search=quai", "Nantes pack", "Lyon pack"),
])  # fmt: skip
def test_the_battery_list_filters(alpha, packs, query, shown, hidden):
    page = alpha.http("viewer").get(f"/batteries/?{query}")
    assert shown in page.text and hidden not in page.text


def test_the_battery_list_filters_by_type(alpha, packs, rack_type):
    in_schema(alpha, Battery.objects.filter(name="Nantes pack").update, type=rack_type)
    page = alpha.http("viewer").get(f"/batteries/?type={rack_type.pk}")
    assert "Nantes pack" in page.text and "Lyon pack" not in page.text


def test_the_battery_list_filters_alerting_batteries_and_says_so_in_words(alpha, packs):
    from alerts import services as alerts
    from telemetry.selectors import asset_source

    lyon, _other = packs

    def raise_one():
        source = asset_source("battery", Battery.objects.select_related("site").get(pk=lyon.pk))
        alerts.raise_alert(source=source, alert_type="temperature", severity="critical", message="Hot")

    in_schema(alpha, raise_one)
    page = alpha.http("viewer").get("/batteries/?state=alerting")
    assert "Lyon pack" in page.text and "Nantes pack" not in page.text
    assert ">Alerting</span>" in page.text


def test_a_filter_asked_by_htmx_returns_only_the_results(alpha, packs):
    page = alpha.http("viewer").get(
        "/batteries/?site=&chemistry=ncm&search=", HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="asset-filters"
    )
    assert page["HX-Push-Url"] == "/batteries/?chemistry=ncm"  # the address bar, without the empty fields
    assert page.text.lstrip().startswith('<div id="asset-results"')
    assert "Nantes pack" in page.text and "<html" not in page.text
    assert "/battery/export/csv?chemistry=ncm" in page.text  # the export follows the filters


def test_the_battery_list_exports_what_it_shows(alpha, packs):
    response = alpha.http("viewer").get("/battery/export/csv?chemistry=lifepo4")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Lyon pack" in body and "Nantes pack" not in body


def readable_text(fmt: str, content: bytes) -> str:
    """What a reader of the file sees, as text: the sheet's cells, or the PDF's page content."""
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            return " ".join(workbook.read(name).decode() for name in workbook.namelist() if name.startswith("xl/"))
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S)
    return " ".join(zlib.decompress(stream).decode("latin-1") for stream in streams if stream[:1] == b"x")


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
     ("pdf", "application/pdf", b"%PDF-")],
)  # fmt: skip
def test_the_battery_list_exports_to_excel_and_pdf_with_what_it_shows(alpha, packs, fmt, content_type, magic):
    response = alpha.http("viewer").get(f"/battery/export/{fmt}?chemistry=lifepo4")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert f'filename="voltwatch-batteries.{fmt}"' in response["Content-Disposition"]
    assert response.content.startswith(magic)
    text = readable_text(fmt, response.content)
    assert "Lyon pack" in text and "Nantes pack" not in text


def test_the_meter_list_shows_power(alpha):
    meter = make_meter(alpha, name="Borne Lyon")
    send(alpha, "meter", meter.device_id, {"power": 1234.5, "voltage": 230.0})
    page = alpha.http("viewer").get("/meters/")
    assert "Borne Lyon" in page.text and "1234.5" in page.text


def test_the_sections_open_on_the_lists_rather_than_a_placeholder(alpha):
    for path in ("/batteries/", "/meters/"):
        assert "Coming soon" not in alpha.http("viewer").get(path).text


# --- Asset pages --------------------------------------------------------------------------------------


def test_a_battery_page_shows_its_latest_values_cells_and_spread(alpha, packs):
    lyon, _other = packs
    page = alpha.http("viewer").get(f"/battery/{lyon.pk}/")
    assert page.status_code == 200
    assert 'data-live="voltage" data-digits="2">51.70<' in page.text
    assert "3.31 · 3.29" in page.text
    assert 'data-live="spread" data-digits="0">20<' in page.text


def test_a_battery_page_spells_out_its_error_flags(alpha):
    battery = make_battery(alpha)
    send(alpha, "battery", battery.serial, {"voltage": 50.0, "error_flags": 5, "state": "error"})
    page = alpha.http("viewer").get(f"/battery/{battery.pk}/")
    assert 'data-live="error_flags">bit 0, bit 2<' in page.text
    assert 'data-live="state">error<' in page.text


def test_a_battery_page_shows_its_custom_values_and_thresholds(alpha, rack_type):
    battery = make_battery(alpha, type=rack_type, custom_values={"warranty_until": "2031-01-31"})
    in_schema(alpha, set_asset_thresholds, "battery", battery, {"temperature": 45.0})
    page = alpha.http("viewer").get(f"/battery/{battery.pk}/")
    assert "Warranty until" in page.text and "2031-01-31" in page.text
    assert "Temperature above (°C)" in page.text and "45.0" in page.text


def test_a_battery_page_offers_its_history_exports_for_the_shown_range(alpha, packs):
    lyon, _other = packs
    page = alpha.http("viewer").get(f"/battery/{lyon.pk}/")
    assert f"/api/v1/telemetry/series/export/pdf?assets=battery%3A{lyon.pk}&amp;metrics=voltage" in page.text


def test_a_viewer_sees_no_edit_button_and_cannot_open_the_forms(alpha, packs):
    lyon, _other = packs
    viewer = alpha.http("viewer")
    for path in (f"/battery/{lyon.pk}/", "/batteries/", "/sites/", "/types/"):
        text = viewer.get(path).text
        assert "/edit/" not in text and "/new/" not in text and "/key/" not in text
    for path in (f"/battery/{lyon.pk}/edit/", "/battery/new/", "/meter/new/", "/sites/new/", "/types/new/",
                 f"/battery/{lyon.pk}/delete/"):  # fmt: skip
        assert viewer.get(path).status_code == 403, path
    assert viewer.post(f"/battery/{lyon.pk}/key/").status_code == 403


def test_an_operator_edits_but_only_an_admin_deletes(alpha, packs):
    lyon, _other = packs
    operator_page = alpha.http("operator").get(f"/battery/{lyon.pk}/").text
    assert f"/battery/{lyon.pk}/edit/" in operator_page and "/delete/" not in operator_page
    assert alpha.http("operator").get(f"/battery/{lyon.pk}/delete/").status_code == 403
    assert f"/battery/{lyon.pk}/delete/" in alpha.http("admin").get(f"/battery/{lyon.pk}/").text


def test_another_tenants_battery_is_the_same_404_as_a_missing_one(alpha, beta):
    theirs = make_battery(beta)
    viewer = alpha.http("viewer")
    foreign, missing = viewer.get(f"/battery/{theirs.pk}/"), viewer.get("/battery/99999999/")
    assert foreign.status_code == missing.status_code == 404
    assert same_page(foreign.text, f"/battery/{theirs.pk}/") == same_page(missing.text, "/battery/99999999/")


def same_page(text: str, path: str) -> str:
    """The page without what differs between any two renders: its address and the CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text.replace(path, "/ADDRESS/"))


def test_a_meter_page_warns_above_its_power_threshold_with_the_last_measurements(alpha):
    meter = make_meter(alpha, power_alert_threshold=3500)
    for second, power in enumerate([1200.0, 3890.5]):
        send(alpha, "meter", meter.device_id, {"power": power, "voltage": 230.0}, time=f"2026-11-24T10:00:0{second}Z")
    page = alpha.http("viewer").get(f"/meter/{meter.pk}/")
    assert '<div id="threshold-alert" class="card alert-banner" role="alert" >' in page.text
    assert "Power above the alert threshold" in page.text
    recent = page.text.split('id="recent-table"')[1].split("</table>")[0]
    assert recent.index("3890.5") < recent.index("1200.0")  # newest first


def test_a_meter_page_below_its_threshold_hides_the_banner(alpha):
    meter = make_meter(alpha, power_alert_threshold=3500)
    send(alpha, "meter", meter.device_id, {"power": 900.0})
    page = alpha.http("viewer").get(f"/meter/{meter.pk}/")
    assert 'id="threshold-alert" class="card alert-banner" role="alert" hidden' in page.text


def test_a_meter_page_keeps_ten_measurements(alpha):
    meter = make_meter(alpha)
    for second in range(12):
        send(alpha, "meter", meter.device_id, {"power": 100.0 + second}, time=f"2026-11-24T10:00:{second:02d}Z")
    page = alpha.http("viewer").get(f"/meter/{meter.pk}/")
    recent = page.text.split('id="recent-table"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert recent.count("<tr>") == 10 and "111.0" in recent and "101.0" not in recent


# --- Forms --------------------------------------------------------------------------------------------


def test_an_operator_creates_a_battery_with_its_types_custom_values_and_thresholds(alpha, rack_type):
    make_battery(alpha)  # the site exists
    site_id = in_schema(alpha, lambda: Site.objects.get(code="lyon").pk)
    form = battery_form(site_id, custom_warranty_until="2031-01-31", custom_supplier="EDS",
                        threshold_cell_overvoltage="3.65")  # fmt: skip
    created = alpha.http("operator").post(f"/battery/new/?type={rack_type.pk}", form)
    assert created.status_code == 302
    battery = in_schema(alpha, Battery.objects.get, serial="NEW-1")
    assert battery.type_id == rack_type.pk
    assert battery.custom_values == {"warranty_until": "2031-01-31", "supplier": "EDS"}
    assert in_schema(alpha, asset_thresholds, "battery", battery) == {"cell_overvoltage": 3.65}


@pytest.mark.parametrize("value", ["", "31/31/2031"])
def test_a_bad_custom_value_shows_the_form_error(alpha, rack_type, value):
    make_battery(alpha)
    site_id = in_schema(alpha, lambda: Site.objects.get(code="lyon").pk)
    form = battery_form(site_id, custom_warranty_until=value)
    refused = alpha.http("operator").post(f"/battery/new/?type={rack_type.pk}", form)
    assert refused.status_code == 400
    errors = refused.text.split('id="id_custom_warranty_until"')[1].split('<div class="field">')[0]
    assert 'class="errorlist"' in errors
    assert not in_schema(alpha, Battery.objects.filter(serial="NEW-1").exists)


def test_a_new_battery_asks_for_its_type_first(alpha, rack_type):
    make_battery(alpha)
    page = alpha.http("operator").get("/battery/new/")
    assert 'name="type"' in page.text and "Warranty until" not in page.text
    chosen = alpha.http("operator").get(f"/battery/new/?type={rack_type.pk}")
    assert "Warranty until" in chosen.text


def test_an_operator_edits_a_battery_and_clears_a_threshold(alpha, packs):
    lyon, _other = packs
    operator = alpha.http("operator")
    site_id = in_schema(alpha, lambda: Site.objects.get(code="lyon").pk)
    operator.post(f"/battery/{lyon.pk}/edit/", battery_form(site_id, name="Lyon rack", serial=lyon.serial,
                                                            threshold_soc_low="15"))  # fmt: skip
    assert in_schema(alpha, asset_thresholds, "battery", lyon) == {"soc_low": 15.0}
    response = operator.post(f"/battery/{lyon.pk}/edit/", battery_form(site_id, name="Lyon rack", serial=lyon.serial))
    assert response.status_code == 302
    assert in_schema(alpha, asset_thresholds, "battery", lyon) == {}
    assert in_schema(alpha, Battery.objects.get, pk=lyon.pk).name == "Lyon rack"


def test_saving_a_meter_makes_its_power_threshold_an_alert_rule(alpha):
    make_meter(alpha)
    site_id = in_schema(alpha, lambda: Site.objects.get(code="lyon").pk)
    response = alpha.http("operator").post(
        "/meter/new/?type=none",
        {"name": "Borne 9", "device_id": "shellypro1pm-aabbccddeeff", "site": site_id, "model": "Shelly Pro 1PM",
         "power_alert_threshold": "3500", "silent_after_minutes": 15},
    )  # fmt: skip
    assert response.status_code == 302
    meter = in_schema(alpha, Meter.objects.get, device_id="shellypro1pm-aabbccddeeff")
    assert in_schema(alpha, asset_thresholds, "meter", meter) == {"power_high": 3500.0}


def test_an_operator_adds_a_site(alpha):
    response = alpha.http("operator").post(
        "/sites/new/",
        {"name": "Grenoble", "code": "grenoble", "time_zone": "Europe/Paris", "address": "1 rue Lavoisier"},
    )
    assert response.status_code == 302 and response["Location"] == "/sites/grenoble/"
    site = in_schema(alpha, Site.objects.get, code="grenoble")
    assert (site.name, site.time_zone, site.address) == ("Grenoble", "Europe/Paris", "1 rue Lavoisier")
    assert "Grenoble" in alpha.http("viewer").get("/sites/grenoble/").content.decode()


def test_an_asset_type_takes_its_custom_fields_as_json(alpha):
    operator = alpha.http("operator")
    refused = operator.post("/types/new/", {"name": "Rack", "kind": "battery", "custom_fields": "[{]"})
    assert refused.status_code == 400 and "Not valid JSON" in refused.text
    saved = operator.post(
        "/types/new/",
        {
            "name": "Rack",
            "kind": "battery",
            "custom_fields": '[{"name": "supplier", "kind": "choice", "choices": ["EDS"]}]',
        },
    )
    assert saved.status_code == 302
    rack = in_schema(alpha, AssetType.objects.get, name="Rack")
    assert rack.custom_fields[0]["choices"] == ["EDS"] and rack.custom_fields[0]["label"] == "supplier"


# --- Ingest keys and deletion -------------------------------------------------------------------------


def test_an_operator_creates_an_ingest_key_bound_to_the_battery(alpha, packs):
    lyon, other = packs
    operator = alpha.http("operator")
    operator.post(f"/battery/{lyon.pk}/key/")
    page = operator.get(f"/battery/{lyon.pk}/")
    assert page["Cache-Control"] == "no-store"
    token = asset_key_on(page)
    assert "asset-key" not in operator.get(f"/battery/{lyon.pk}/").text  # shown once

    def post(serial):
        body = {"readings": [{"asset": serial, "time": "2026-11-24T11:00:00Z", "values": {"soc": 50}}]}
        return alpha.api(token).post("/api/v1/telemetry/readings", body, content_type="application/json").status_code

    assert post(lyon.serial) == 201
    assert post(other.serial) != 201


def test_a_meter_key_comes_with_the_webhook_url_to_configure(alpha):
    meter = make_meter(alpha)
    operator = alpha.http("operator")
    operator.post(f"/meter/{meter.pk}/key/")
    page = operator.get(f"/meter/{meter.pk}/")
    token = asset_key_on(page)
    assert f"http://{alpha.host}/webhook/{token}/" in page.text


def test_deleting_a_battery_revokes_the_keys_bound_to_it(alpha, packs):
    lyon, _other = packs
    operator = alpha.http("operator")
    operator.post(f"/battery/{lyon.pk}/key/")
    token = asset_key_on(operator.get(f"/battery/{lyon.pk}/"))
    admin = alpha.http("admin")
    assert "cannot be undone" in admin.get(f"/battery/{lyon.pk}/delete/").text
    assert admin.post(f"/battery/{lyon.pk}/delete/").status_code == 302
    assert not in_schema(alpha, Battery.objects.filter(pk=lyon.pk).exists)
    response = alpha.api(token).post(
        "/api/v1/telemetry/readings",
        {"readings": [{"asset": lyon.serial, "time": "2026-11-24T11:00:00Z", "values": {"soc": 50}}]},
        content_type="application/json",
    )
    assert response.status_code == 401


# --- Sites --------------------------------------------------------------------------------------------


def test_the_site_list_counts_each_sites_assets(alpha, packs):
    page = alpha.http("viewer").get("/sites/")
    lyon_row = page.text.split("Lyon dépôt")[1].split("</tr>")[0]
    assert "<td>1</td><td>0</td>" in lyon_row and "Nantes quai" in page.text


def test_a_site_page_lists_its_batteries_and_meters_with_latest_values(alpha, packs):
    meter = make_meter(alpha, name="Borne Lyon")
    send(alpha, "meter", meter.device_id, {"power": 2100.0})
    page = alpha.http("viewer").get("/sites/lyon/")
    assert page.status_code == 200
    assert "Lyon pack" in page.text and "Borne Lyon" in page.text and "Nantes pack" not in page.text
    assert "51.70" in page.text and "2100.0" in page.text


def test_an_integrator_exports_the_battery_list_through_the_api(alpha, packs):
    response = alpha.api(alpha.read_token).get("/api/v1/telemetry/battery-list/export/csv?chemistry=lifepo4")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Lyon pack" in body and "Nantes pack" not in body and "51.7" in body
