"""A person watching a battery and a meter in a real browser while readings arrive."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from telemetry import services
from tests.conftest import PASSWORD
from tests.factories import make_battery, make_meter

pytestmark = pytest.mark.browser


@pytest.fixture
def committed_assets(worlds):
    alpha = worlds["alpha"]
    made = []

    def make(factory, kind, **fields):
        with alpha.blocker.unblock():
            asset = factory(alpha, **fields)
        made.append((kind, asset))
        return asset

    yield make
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        for kind, asset in made:
            services.delete_asset(kind, type(asset).objects.get(pk=asset.pk))
    connection.set_schema_to_public()


def sign_in(page, server, world):
    page.goto(server.url(world, "/accounts/login/"))
    page.get_by_label("Email").fill("viewer@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def ingest(server, world, kind, ref, values):
    """As a device would, from outside the browser's event loop."""
    body = {"kind": kind, "readings": [{"asset": ref, "time": datetime.now(UTC).isoformat(), "values": values}]}

    def post():
        return httpx.post(
            f"http://127.0.0.1:{server.port}/api/v1/telemetry/readings",
            headers={"Host": world.host, "Authorization": f"Api-Key {world.api_token}"},
            json=body,
        ).status_code

    with ThreadPoolExecutor(1) as device:
        assert device.submit(post).result() == 201


def test_a_battery_page_updates_its_values_and_cells_live(worlds, asgi_server, page, committed_assets):
    alpha = worlds["alpha"]
    battery = committed_assets(make_battery, "battery", name="Live pack")
    sign_in(page, asgi_server, alpha)
    page.goto(asgi_server.url(alpha, f"/battery/{battery.pk}/"))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)

    ingest(
        asgi_server,
        alpha,
        "battery",
        battery.serial,
        {"voltage": 52.61, "soc": 73, "cell_voltages": [3.28, 3.31, 3.25]},
    )

    expect(page.locator('[data-live="voltage"]')).to_have_text("52.61", timeout=2_000)
    expect(page.locator('[data-live="spread"]')).to_have_text("60")
    expect(page.locator("#cells-text")).to_contain_text("min 3.25 V, max 3.31 V")


def test_a_meter_page_adds_the_measurement_and_warns_above_the_threshold(worlds, asgi_server, page, committed_assets):
    alpha = worlds["alpha"]
    meter = committed_assets(make_meter, "meter", name="Live borne", power_alert_threshold=3500)
    sign_in(page, asgi_server, alpha)
    page.goto(asgi_server.url(alpha, f"/meter/{meter.pk}/"))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)
    expect(page.locator("#threshold-alert")).to_be_hidden()

    ingest(asgi_server, alpha, "meter", meter.device_id, {"power": 3890.5, "voltage": 231.0})

    expect(page.locator("#recent-table tbody tr").first).to_contain_text("3890.5", timeout=2_000)
    expect(page.locator("#threshold-alert")).to_be_visible()
