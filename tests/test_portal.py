"""The portal shell: every page renders for every role, in the tenant's layout, with local assets."""

import re

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


# What an admin sees on each admin page: the company's own users, keys, audit trail and configuration.
ADMIN_PAGES = {
    "/settings/users/": ["admin@alpha.test", "operator@alpha.test", "viewer@alpha.test", "Send invitation"],
    "/settings/api-keys/": ["<td>integration</td>", "<td>reader</td>", "Create key"],
    "/settings/audit-log/": ["<code>tenant.provisioned</code>", "<code>api_key.created</code>"],
    "/admin/": [
        "Configuration of your company",
        'href="/admin/accounts/user/"',
        'href="/admin/accounts/apikey/"',
        'href="/admin/alerts/alertrule/"',
        'href="/admin/alerts/channel/"',
        'href="/admin/fleet/device/"',
    ],
    "/alerts/channels/": ["Notification channels", "Add a channel"],
}


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_admin_pages_render_for_admins(alpha, path):
    response = alpha.http("admin").get(path)

    assert response.status_code == 200
    page = response.content.decode()
    missing = [text for text in ADMIN_PAGES[path] if text not in page]
    assert missing == []


def test_the_configuration_admin_lets_a_tenant_admin_edit_the_companys_configuration(alpha):
    admin = alpha.http("admin")

    users = admin.get("/admin/accounts/user/")
    assert users.status_code == 200
    assert "operator@alpha.test" in users.content.decode()
    assert admin.get("/admin/alerts/alertrule/add/").status_code == 200


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_the_configuration_admin_is_for_tenant_admins_only(alpha, role):
    client = alpha.http(role)

    response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/")
    refused = client.get("/admin/accounts/user/")
    assert (refused.status_code, refused["Location"]) == (302, "/admin/login/?next=/admin/accounts/user/")


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


# Every address a page makes the browser fetch by itself: scripts, styles, icons, images, frames, media.
LOADED = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*?\ssrc=[\"']([^\"']*)"
    r"|<link\b[^>]*?\shref=[\"']([^\"']*)"
    r"|<object\b[^>]*?\sdata=[\"']([^\"']*)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", SECTION_PATHS)
def test_pages_load_only_local_assets_and_send_a_strict_csp(alpha, path):
    response = alpha.http("viewer").get(path)
    page = response.content.decode()

    loaded = [next(url for url in groups if url) for groups in LOADED.findall(page)]
    assert "/static/vendor/htmx/htmx.min.js" in loaded
    foreign = [url for url in loaded if not url.startswith("/") or url.startswith("//")]
    assert foreign == []  # no CDN, whether written https://, http:// or //
    assert "<script>" not in page  # no inline scripts: the CSP forbids them
    policy = dict(directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";"))
    assert (policy["default-src"], policy["script-src"]) == ("'self'", "'self'")
    for url in loaded:
        assert HttpClient(HTTP_HOST=alpha.host).get(url).status_code == 200, url


def test_the_public_host_shows_the_platform_home(worlds, db):
    response = HttpClient(HTTP_HOST="localhost").get("/")

    assert response.status_code == 200
    assert "Voltwatch platform" in response.content.decode()


def test_french_is_served_to_a_french_browser(alpha):
    page = alpha.http(HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9").get("/accounts/login/").content.decode()

    assert 'lang="fr"' in page
    assert "Se connecter" in page


def test_an_error_page_is_titled_in_the_readers_language(alpha):
    english = alpha.http("viewer").get("/settings/audit-log/")
    french = alpha.http("viewer", HTTP_ACCEPT_LANGUAGE="fr").get("/settings/audit-log/")

    assert (english.status_code, french.status_code) == (403, 403)
    assert "<title>Access denied" in english.content.decode()
    assert "<title>Accès refusé" in french.content.decode()
