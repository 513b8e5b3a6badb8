"""Tenant isolation: each attempt to reach one tenant's data from another must fail, without a hint."""

import pytest
import websockets
import websockets.exceptions
from django.conf import settings
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, run_async


def test_a_user_of_alpha_cannot_sign_in_on_betas_host(alpha, beta):
    response = beta.http().post("/accounts/login/", {"username": "admin@alpha.test", "password": PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert "sessionid" not in response.cookies


def test_alphas_session_cookie_is_unknown_on_betas_host(alpha, beta):
    signed_in = alpha.http("admin")
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    intruder = HttpClient(HTTP_HOST=beta.host)
    intruder.cookies[settings.SESSION_COOKIE_NAME] = cookie

    assert intruder.get("/").status_code == 302  # to the login page
    assert intruder.get("/api/v1/me").status_code == 401


def test_alphas_api_key_is_unknown_on_betas_host(alpha, beta):
    response = beta.api(alpha.api_token).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"


def test_an_object_id_of_alpha_fetched_on_betas_host_is_not_found_like_any_missing_id(alpha, beta):
    from accounts.models import ApiKey
    from accounts.services import create_api_key

    with schema_context(beta.slug):
        beta_max_id = ApiKey.objects.order_by("-pk").values_list("pk", flat=True).first()
    with schema_context(alpha.slug):
        key = None
        while key is None or key.pk <= beta_max_id:
            key, _token = create_api_key(name="alpha only", scopes=["read"])
    admin_of_beta = beta.http("admin")

    alphas = admin_of_beta.get(f"/api/v1/api-keys/{key.pk}")
    missing = admin_of_beta.get("/api/v1/api-keys/987654")

    assert alphas.status_code == missing.status_code == 404
    assert alphas.json() == missing.json()
    assert admin_of_beta.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 404
    with schema_context(alpha.slug):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_a_websocket_to_beta_with_alphas_session_is_refused(worlds, asgi_server):
    alpha, beta = worlds["alpha"], worlds["beta"]
    cookie = alpha.session_cookie("operator")

    async def handshake():
        async with websockets.connect(
            f"ws://{beta.host}:{asgi_server.port}/ws/notifications/",
            host="127.0.0.1",
            port=asgi_server.port,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        ) as socket:
            await socket.recv()

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        run_async(handshake())
    assert refused.value.response.status_code == 403


def test_a_tenant_user_cannot_sign_in_to_the_staff_admin(alpha):
    client = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)

    response = client.post("/admin/login/?next=/admin/", {"username": "admin@alpha.test", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_staff_cannot_use_the_admin_of_a_tenant_host(alpha, staff_client):
    on_tenant = HttpClient(HTTP_HOST=alpha.host)
    response = on_tenant.post("/admin/login/?next=/admin/", {"username": "staff@platform.test", "password": PASSWORD})

    assert response.status_code == 200
    assert on_tenant.get("/admin/").status_code == 302


def test_the_staff_session_of_the_public_host_means_nothing_on_a_tenant_host(alpha, staff_client):
    intruder = HttpClient(HTTP_HOST=alpha.host)
    intruder.cookies[settings.SESSION_COOKIE_NAME] = staff_client.cookies[settings.SESSION_COOKIE_NAME].value

    assert intruder.get("/admin/").status_code == 302
    assert intruder.get("/api/v1/me").status_code == 401


def test_an_unknown_host_gets_a_404_page(db, worlds):
    response = HttpClient(HTTP_HOST="nobody.localhost").get("/")

    assert response.status_code == 404
    assert b"There is no Voltwatch portal at this address" in response.content


def test_an_unknown_host_gets_a_json_404_under_the_api(db, worlds):
    response = HttpClient(HTTP_HOST="nobody.localhost").get("/api/v1/me")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
