"""Someone watching a battery page and a meter page in a real browser while a device reports: the
values change in place, pushed over the tenant websocket, without a reload."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import make_battery, make_meter

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 2_000


def open_live(page, server, world, path):
    """Open `path` as the tenant's viewer and wait for the page's websocket to be up."""
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": world.session_cookie("viewer"), "url": server.url(world, "/")}]
    )
    page.goto(server.url(world, path))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)


def ingest(server, world, kind, ref, values):
    """Report one reading as a device would, from a thread: server-side work stays off Playwright's loop."""
    body = {"kind": kind, "readings": [{"asset": ref, "time": datetime.now(UTC).isoformat(), "values": values}]}

    def post():
        return httpx.post(
            f"http://127.0.0.1:{server.port}/api/v1/telemetry/readings",
            headers={"Host": world.host, "Authorization": f"Api-Key {world.api_token}"},
            json=body,
            timeout=10,
        ).status_code

    with ThreadPoolExecutor(1) as device:
        assert device.submit(post).result() == 201


def test_a_battery_page_follows_its_readings_live(worlds, asgi_server, page, committed_assets):
    alpha = worlds["alpha"]
    battery = committed_assets(make_battery, "battery", name="Live pack")
    open_live(page, asgi_server, alpha, f"/battery/{battery.pk}/")
    expect(page.locator('[data-live="voltage"]')).to_have_text("—")
    points_before = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=voltage]')).data.datasets[0].data.length"
    )

    ingest(
        asgi_server,
        alpha,
        "battery",
        battery.serial,
        {"voltage": 52.61, "current": -12.5, "soc": 73, "cell_voltages": [3.28, 3.31, 3.25], "error_flags": 0},
    )

    expect(page.locator('[data-live="voltage"]')).to_have_text("52.61", timeout=LIVE_WITHIN_MS)
    expect(page.locator('[data-live="soc"]')).to_have_text("73.0")
    expect(page.locator('[data-live="spread"]')).to_have_text("60")
    expect(page.locator('[data-live="error_flags"]')).to_have_text("None")
    expect(page.locator("#cells-text")).to_contain_text("min 3.25 V, max 3.31 V, spread 60 mV")
    expect(page.locator("#recent-table tbody tr").first).to_contain_text("52.61")
    points_after = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=voltage]')).data.datasets[0].data.length"
    )
    assert points_after == points_before + 1


def test_a_meter_page_adds_each_measurement_and_warns_above_its_threshold(worlds, asgi_server, page, committed_assets):
    alpha = worlds["alpha"]
    meter = committed_assets(make_meter, "meter", name="Live borne", power_alert_threshold=3500)
    open_live(page, asgi_server, alpha, f"/meter/{meter.pk}/")
    banner = page.locator("#threshold-alert")
    expect(banner).to_be_hidden()

    ingest(asgi_server, alpha, "meter", meter.device_id, {"power": 1200.0, "voltage": 230.4, "current": 5.21})
    expect(page.locator("#recent-table tbody tr").first).to_contain_text("1200.0", timeout=LIVE_WITHIN_MS)
    expect(banner).to_be_hidden()

    ingest(asgi_server, alpha, "meter", meter.device_id, {"power": 3890.5, "voltage": 231.0, "current": 16.8})
    expect(page.locator("#recent-table tbody tr").first).to_contain_text("3890.5", timeout=LIVE_WITHIN_MS)
    expect(page.locator("#recent-table tbody tr")).to_have_count(2)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Power above the alert threshold")
    expect(page.locator('.metric-card [data-live="power"]')).to_have_text("3890.5")
