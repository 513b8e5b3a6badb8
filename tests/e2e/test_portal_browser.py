"""A person in a real browser: sign in, walk the whole shell, see the live link, sign out."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NAV = ["Batteries", "Meters", "Charging", "Fleet", "Alerts", "Chat", "Settings", "Overview"]


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_sign_in_walk_every_page_and_sign_out(worlds, asgi_server, page, role):
    alpha = worlds["alpha"]
    page.goto(asgi_server.url(alpha, "/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    page.get_by_label("Email").fill(f"{role}@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_test_id("tenant-name")).to_have_text("Alpha Energy")
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)  # the websocket is up
    main_nav = page.get_by_role("navigation", name="Main")
    for label in NAV:
        main_nav.get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("Server Error")
        expect(main_nav.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="Dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(asgi_server.url(alpha, "/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_live_event_pops_up_on_an_open_page(worlds, asgi_server, page):
    from core.realtime import notify_tenant

    alpha = worlds["alpha"]
    page.goto(asgi_server.url(alpha, "/accounts/login/"))
    page.get_by_label("Email").fill("viewer@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)

    # Server code runs outside Playwright's event loop, as a Celery task or a view would.
    with ThreadPoolExecutor(1) as server_side:
        server_side.submit(
            notify_tenant, "alpha", "alert.raised", {"title": "Battery B-12 over temperature", "severity": "critical"}
        ).result()

    expect(page.get_by_role("alert")).to_contain_text("Battery B-12 over temperature")


def test_the_wrong_password_keeps_the_visitor_out(worlds, asgi_server, page):
    page.goto(asgi_server.url(worlds["beta"], "/accounts/login/"))
    page.get_by_label("Email").fill("admin@beta.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_new_critical_alert_pops_up_on_any_open_page(worlds, asgi_server, page, django_db_blocker):
    from django_tenants.utils import schema_context

    from alerts import services

    alpha = worlds["alpha"]
    page.goto(asgi_server.url(alpha, "/accounts/login/"))
    page.get_by_label("Email").fill("operator@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(asgi_server.url(alpha, "/settings/profile/"))
    expect(page.get_by_role("status").first).to_have_text("Live", timeout=10_000)

    def raise_in_a_worker():
        with django_db_blocker.unblock(), schema_context("alpha"):
            source = services.Source(type="battery", id="B-7", label="Pack B-7", site_id="lyon", site_label="LYON")
            raised = services.raise_alert(
                source=source, alert_type="cell_overvoltage", severity="critical", message="Cell 12 at 3.71 V"
            )
            return raised.alert.pk

    with ThreadPoolExecutor(1) as worker:
        alert_id = worker.submit(raise_in_a_worker).result()

    expect(page.get_by_role("alert")).to_contain_text("Cell 12 at 3.71 V")
    with django_db_blocker.unblock(), schema_context("alpha"):
        from alerts.models import Alert

        Alert.objects.filter(pk=alert_id).delete()
