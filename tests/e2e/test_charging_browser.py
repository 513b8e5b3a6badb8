"""An operator in a real browser on the Charging page: changes a filter, sees only the tab reload and
the address follow, sorts a table, exports it; the page logs no error (CSP included)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.charging_data import charging_load, session

pytestmark = pytest.mark.browser

SITES = ("E2E NORTH", "E2E SOUTH")


@pytest.fixture
def charging_data(worlds):
    """Three sessions of alpha in March 2026 on two sites, committed (the server is another process)."""
    from charging.models import ChargePoint, ChargingSource
    from sites.models import Site

    alpha = worlds["alpha"]

    def load():  # in a thread of its own: the import may notify, and Playwright's loop runs in this one
        with schema_context(alpha.slug):
            charging_load(
                sessions=[
                    session("E2E-OK", site=SITES[0], start="2026-03-02 10:00:00"),
                    session("E2E-EVI", site=SITES[0], start="2026-03-03 10:00:00", outcome=1, ds=8192, step=8),
                    session("E2E-DS", site=SITES[1], start="2026-03-04 10:00:00", outcome=1, ds=1234, step=2),
                ]
            )
        connection.close()

    with alpha.blocker.unblock(), ThreadPoolExecutor(1) as worker:
        worker.submit(load).result()
    connection.set_schema_to_public()
    yield alpha
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        ChargingSource.objects.all().delete()
        ChargePoint.objects.filter(site__name__in=SITES).delete()
        Site.objects.filter(name__in=SITES).delete()
    connection.set_schema_to_public()


def figure(page, key):
    return page.locator(f'[data-figure="{key}"] .stat')


def test_changing_a_filter_reloads_the_tab_and_the_address(asgi_server, page, charging_data):
    alpha = charging_data
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": alpha.session_cookie("operator"),
                "url": asgi_server.url(alpha),
            }
        ]
    )
    page.goto(asgi_server.url(alpha, "/charging/?tab=general&period=month&d1=2026-03-01"))
    expect(figure(page, "total")).to_have_text("3")
    expect(page.locator("canvas[data-chart]")).to_have_count(1)
    page.evaluate("() => { window.notReloaded = true; }")

    page.get_by_label("Sites").select_option(["e2e-north"])

    expect(page).to_have_url(re.compile(r"/charging/\?tab=general&period=month&d1=2026-03-01&sites=e2e-north$"))
    expect(figure(page, "total")).to_have_text("2")
    expect(figure(page, "failed")).to_have_text("1")
    assert page.evaluate("() => window.notReloaded") is True  # only the tab was swapped
    assert page.evaluate("() => !!Chart.getChart(document.querySelector('canvas[data-chart]'))")

    page.get_by_role(
        "button", name="Before charge", exact=True
    ).click()  # the shortcut: Init, Lock connector, Cable check
    expect(page).to_have_url(re.compile(r"moments=Init%2CLock\+Connector%2CCableCheck"))
    expect(figure(page, "failed")).to_have_text("0")  # the Charge failure now counts as OK
    expect(page.get_by_label("Charge", exact=True)).not_to_be_checked()

    page.get_by_label("Period").select_option("all")
    expect(page).to_have_url(re.compile(r"period=all"))
    sessions = page.get_by_role("navigation", name="Charging").get_by_role("link", name="Sessions")
    expect(sessions).to_have_attribute("href", re.compile(r"^/charging/sessions/\?period=all&sites=e2e-north&moments="))

    table = page.locator('[data-table="sites"] table')
    header = table.locator("th", has_text="Sessions")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")

    with page.expect_download() as download:
        page.locator('[data-table="sites"]').get_by_role("link", name=re.compile("^CSV")).click()
    with open(download.value.path(), encoding="utf-8") as exported:
        content = exported.read()
    assert content.splitlines()[1] == "E2E NORTH,2,2,0,0,0,0,100,0"

    page.go_back()
    expect(page).to_have_url(re.compile(r"moments=Init"))
    assert problems == []


def test_the_progress_bar_follows_the_import_over_the_websocket(asgi_server, page, charging_data):
    from charging.models import ChargingSource, ImportRun
    from core.realtime import notify_tenant

    alpha = charging_data
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        run = ImportRun.objects.create(source=ChargingSource.objects.get(), trigger="portal", status="running")
    connection.set_schema_to_public()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": alpha.session_cookie("viewer"), "url": asgi_server.url(alpha)}]
    )
    page.goto(asgi_server.url(alpha, f"/charging/imports/{run.pk}/"))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)
    bar = page.get_by_label("Import progress")
    expect(bar).not_to_have_attribute("value", re.compile("."))

    payload = {"id": run.pk, "source": run.source_id, "status": "running", "rows_read": 250, "rows_expected": 1000,
               "rows_created": 200, "rows_updated": 40, "rows_rejected": 10, "error": ""}  # fmt: skip
    with ThreadPoolExecutor(1) as worker:  # server code, off Playwright's event loop
        worker.submit(notify_tenant, alpha.slug, "charging.import", payload).result()

    expect(bar).to_have_js_property("value", 25)
    expect(page.locator(f'[data-import-run="{run.pk}"] [data-run-counts]')).to_have_text(
        "250 read, 200 created, 40 updated, 10 rejected"
    )


def test_the_progress_polls_every_2_s_while_the_websocket_is_down(asgi_server, page, charging_data):
    from charging.models import ChargingSource, ImportRun

    alpha = charging_data
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        run = ImportRun.objects.create(source=ChargingSource.objects.get(), trigger="portal", status="running")
    connection.set_schema_to_public()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": alpha.session_cookie("viewer"), "url": asgi_server.url(alpha)}]
    )
    page.goto(asgi_server.url(alpha, f"/charging/imports/{run.pk}/"))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)
    page.evaluate("() => { const s = window.voltwatch.socket; s.onclose = null; s.close(); }")  # down, for good

    with alpha.blocker.unblock(), schema_context(alpha.slug):  # the worker's progress, with no event sent
        ImportRun.objects.filter(pk=run.pk).update(rows_read=600, rows_expected=1200, rows_created=600)
    connection.set_schema_to_public()

    expect(page.get_by_label("Import progress")).to_have_js_property("value", 50, timeout=5_000)
    expect(page.locator(f'[data-import-run="{run.pk}"] [data-run-counts]')).to_have_text(
        "600 read, 600 created, 0 updated, 0 rejected"
    )
