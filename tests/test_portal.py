"""The portal shell: every page renders for every role, in the tenant's layout, with local assets."""

import pytest
from django.test import Client as HttpClient

SECTION_PATHS = [
    "/",
    "/batteries/",
    "/meters/",
    "/charging/",
    "/fleet/",
    "/alerts/",
    "/alerts/silences/",
    "/alerts/rules/",
    "/chat/",
    "/settings/profile/",
]
ADMIN_PATHS = ["/settings/users/", "/settings/api-keys/", "/settings/audit-log/", "/admin/", "/alerts/channels/"]


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
@pytest.mark.parametrize("path", SECTION_PATHS)
def test_every_section_renders_for_every_role(alpha, role, path):
    response = alpha.http(role).get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpha Energy" in page
    for label in ("Overview", "Batteries", "Meters", "Charging", "Fleet", "Alerts", "Chat", "Settings"):
        assert f">{label}</a>" in page


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_admin_pages_render_for_admins(alpha, path):
    assert alpha.http("admin").get(path).status_code == 200


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_the_configuration_admin_is_for_tenant_admins_only(alpha, role):
    assert alpha.http(role).get("/admin/").status_code == 302  # to the admin's login


def test_pages_not_built_yet_say_so_plainly(alpha):
    page = alpha.http("viewer").get("/chat/").content.decode()

    assert "Coming soon" in page


def test_signed_out_visitors_are_sent_to_the_login_page(alpha):
    response = alpha.http().get("/batteries/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/batteries/"


def test_sign_out_ends_the_session(alpha):
    client = alpha.http("operator")
    client.post("/accounts/logout/")

    assert client.get("/").status_code == 302


def test_a_missing_page_is_a_404_in_the_portal_layout(alpha):
    response = alpha.http("viewer").get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "Alpha Energy" in page and ">Overview</a>" in page


def test_pages_load_only_local_assets_and_send_a_strict_csp(alpha):
    response = alpha.http("viewer").get("/")
    page = response.content.decode()

    assert "http://" not in page.replace("http://alpha.localhost", "") or "cdn" not in page
    assert "<script>" not in page  # no inline scripts: the CSP forbids them
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert HttpClient(HTTP_HOST=alpha.host).get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_the_public_host_shows_the_platform_home(worlds, db):
    response = HttpClient(HTTP_HOST="localhost").get("/")

    assert response.status_code == 200
    assert "Voltwatch platform" in response.content.decode()


def test_french_is_served_to_a_french_browser(alpha):
    page = alpha.http(HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9").get("/accounts/login/").content.decode()

    assert 'lang="fr"' in page
    assert "Se connecter" in page
