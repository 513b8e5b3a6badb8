"""The REST API as an integrator sees it: authentication, scopes, errors, limits, documentation."""

import json

from django_tenants.utils import schema_context

from tenants.models import Client
from tests.conftest import TenantWorld


def test_me_names_the_tenant_and_the_keys_scopes(alpha: TenantWorld):
    response = alpha.api().get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["tenant"] == {
        "name": "Alpha Energy",
        "slug": "alpha",
        "domain": "alpha.localhost",
        "timezone": "Europe/Paris",
    }
    assert body["principal"]["type"] == "api_key"
    assert body["scopes"] == ["ingest", "read", "write"]


def test_the_x_api_key_header_is_accepted_too(alpha):
    response = alpha.http(HTTP_X_API_KEY=alpha.read_token).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["scopes"] == ["read"]


def test_using_a_key_records_when_it_was_last_used(alpha):
    from accounts.models import ApiKey

    alpha.api(alpha.read_token).get("/api/v1/me")

    with schema_context(alpha.slug):
        assert ApiKey.objects.get(name="reader").last_used_at is not None


def test_a_portal_session_can_call_the_api_with_its_roles_scopes(alpha):
    response = alpha.http("viewer").get("/api/v1/me")

    assert response.json()["principal"] == {
        "type": "user",
        "name": "viewer@alpha.test",
        "email": "viewer@alpha.test",
        "role": "viewer",
    }
    assert response.json()["scopes"] == ["read"]


def test_no_credentials_get_401_with_a_json_reason(alpha):
    response = alpha.http().get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_a_revoked_key_gets_401(alpha):
    from accounts.models import ApiKey
    from accounts.services import create_api_key, revoke_api_key

    with schema_context(alpha.slug):
        key, token = create_api_key(name="to revoke", scopes=["read"])
        revoke_api_key(key=ApiKey.objects.get(pk=key.pk), by=None)

    response = alpha.api(token).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_api_key", "detail": "Unknown or revoked API key.", "fields": {}}


def test_a_read_only_key_cannot_write(alpha):
    response = alpha.api(alpha.read_token).post("/api/v1/events", {"title": "hello"}, content_type="application/json")

    assert response.status_code == 403
    assert "'write' scope" in response.json()["detail"]


def test_malformed_json_gets_400_with_the_parsers_reason(alpha):
    response = alpha.api().post("/api/v1/events", '{"title": "unterminated', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_request"
    assert "Malformed JSON" in body["detail"]
    assert "unexpected end of data" in body["fields"]["body"]


def test_invalid_fields_get_400_naming_each_field(alpha):
    response = alpha.api().post("/api/v1/events", {"severity": "apocalyptic"}, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == {"title", "severity"}
    assert "apocalyptic" in body["fields"]["severity"]


def test_an_oversized_body_gets_413_before_it_is_read(alpha, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000

    response = alpha.api().post("/api/v1/events", json.dumps({"title": "x" * 2000}), content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert "1000" in response.json()["detail"]


def test_a_key_over_its_rate_gets_429_saying_which_limit_and_when_to_retry(alpha):
    from accounts.services import create_api_key

    Client.objects.filter(pk=alpha.tenant.pk).update(api_rate="3/min")
    with schema_context(alpha.slug):
        _key, token = create_api_key(name="busy", scopes=["read"])
    client = alpha.api(token)

    statuses = [client.get("/api/v1/me").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me")
    body = response.json()
    assert body["error"] == "throttled"
    assert body["limit"] == "3 requests per minute"
    assert 1 <= body["retry_after"] <= 60
    assert response["Retry-After"] == str(body["retry_after"])
    assert "Retry in" in body["detail"]


def test_the_rate_is_counted_per_key(alpha):
    from accounts.services import create_api_key

    Client.objects.filter(pk=alpha.tenant.pk).update(api_rate="2/min")
    with schema_context(alpha.slug):
        tokens = [create_api_key(name=f"k{i}", scopes=["read"])[1] for i in range(2)]

    first = [alpha.api(tokens[0]).get("/api/v1/me").status_code for _ in range(3)]
    second = alpha.api(tokens[1]).get("/api/v1/me").status_code

    assert first == [200, 200, 429]
    assert second == 200


def test_the_openapi_document_is_served(alpha):
    response = alpha.http().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert "/api/v1/me" in document["paths"]
    assert "ApiKey" in document["components"]["securitySchemes"]


def test_the_interactive_docs_load_their_assets_locally(alpha):
    response = alpha.http().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_an_admin_session_can_create_and_revoke_keys_through_the_api(alpha):
    admin = alpha.http("admin")

    created = admin.post("/api/v1/api-keys/", {"name": "erp", "scopes": ["read"]}, content_type="application/json")
    assert created.status_code == 201
    token = created.json()["token"]
    assert alpha.api(token).get("/api/v1/me").status_code == 200

    revoked = admin.post(f"/api/v1/api-keys/{created.json()['id']}/revoke")
    assert revoked.json()["active"] is False
    assert alpha.api(token).get("/api/v1/me").status_code == 401


def test_keys_cannot_manage_keys(alpha):
    response = alpha.api().get("/api/v1/api-keys/")

    assert response.status_code == 403


def test_a_revoked_key_is_refused_at_once_by_a_server_that_has_just_accepted_it(worlds, asgi_server):
    """Servers remember the keys they found for a few seconds; a revocation still applies at once."""
    import httpx

    from accounts.models import ApiKey
    from accounts.services import create_api_key, revoke_api_key

    alpha = worlds["alpha"]
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        key, token = create_api_key(name="soon revoked", scopes=["read"])
    try:

        def me() -> int:
            return httpx.get(
                f"http://127.0.0.1:{asgi_server.port}/api/v1/me",
                headers={"Host": alpha.host, "Authorization": f"Api-Key {token}"},
            ).status_code

        assert [me(), me()] == [200, 200]
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            revoke_api_key(key=key, by=None)
        assert me() == 401
    finally:
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            ApiKey.objects.filter(pk=key.pk).delete()
