"""Every API operation on one object, tried by alpha on beta's objects: each answers exactly as for an
id that exists nowhere, and beta's objects stay as they were. The operations come from the OpenAPI
document, so a new route is covered (or fails here for want of a beta object) from the day it exists."""

import json
import re

import pytest
from django_tenants.utils import schema_context

from tests.api_objects import DEVICE, one_of_each

# The path parameters that name an object, and the beta object each path prefix names.
OBJECT_PARAMETERS = {"id", "key_id", "site_id"}
RESOURCES = [
    ("/api/v1/alerts/rules/", "rule"),
    ("/api/v1/alerts/silences/", "silence"),
    ("/api/v1/alerts/channels/", "channel"),
    ("/api/v1/alerts/", "alert"),
    ("/api/v1/api-keys/", "api_key"),
    ("/api/v1/fleet/sites/", "device"),
    ("/api/v1/fleet/devices/", "device"),
    ("/api/v1/telemetry/sites/", "site"),
    ("/api/v1/telemetry/types/", "type"),
    ("/api/v1/telemetry/batteries/", "battery"),
    ("/api/v1/telemetry/meters/", "meter"),
]
MISSING = {"device": "no-such-site"}
MISSING_ID = 987654
# Enough for every create-or-update body to get past validation: the lookup must be what answers.
BODY = {"body": "a comment", "assignee": None, "name": "x"}


def _made(response) -> dict:
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def betas_objects(alpha, beta) -> dict[str, object]:
    from accounts.models import ApiKey
    from accounts.services import create_api_key

    api = beta.api()

    def post(path, body):
        return _made(api.post(path, body, content_type="application/json"))

    objects = {kind: made["id"] for kind, made in one_of_each(post).items() if kind != "device"}
    objects["device"] = DEVICE
    with schema_context(alpha.slug):
        alphas_last_key = ApiKey.objects.order_by("-pk").values_list("pk", flat=True).first()
    with schema_context(beta.slug):
        key = None
        while key is None or key.pk <= alphas_last_key:  # an id alpha's own keys do not have
            key, _token = create_api_key(name="beta only", scopes=["read"])
    objects["api_key"] = key.pk
    return objects


def _object_operations(alpha) -> list[tuple[str, str, str]]:
    document = alpha.api().get("/api/v1/schema/?format=json").json()
    found = []
    for path, methods in document["paths"].items():
        named = set(re.findall(r"{(\w+)}", path)) & OBJECT_PARAMETERS
        if named:
            [parameter] = named
            found += [(method.upper(), path, parameter) for method in methods if method != "parameters"]
    return found


def _call(client, method: str, url: str):
    response = client.generic(method, url, json.dumps(BODY), content_type="application/json")
    body = response.json() if response.get("Content-Type", "").startswith("application/json") else response.content
    return response.status_code, body


@pytest.mark.parametrize("principal", ["api key", "admin session"])
def test_betas_objects_are_not_found_by_alpha_like_ids_that_exist_nowhere(alpha, beta, betas_objects, principal):
    client = alpha.api() if principal == "api key" else alpha.http("admin")
    answers = {}
    for method, path, parameter in _object_operations(alpha):
        resource = next(name for prefix, name in RESOURCES if path.startswith(prefix))
        betas = path.replace(f"{{{parameter}}}", str(betas_objects[resource]))
        missing = path.replace(f"{{{parameter}}}", str(MISSING.get(resource, MISSING_ID)))
        answers[f"{method} {path}"] = (_call(client, method, betas), _call(client, method, missing))

    assert len(answers) >= 25
    assert {operation: betas for operation, (betas, missing) in answers.items() if betas != missing} == {}
    if principal == "admin session":  # an admin may call every operation: all of them must be 404
        assert {operation: betas[0] for operation, (betas, _missing) in answers.items() if betas[0] != 404} == {}


def test_alphas_attempts_leave_betas_objects_as_they_were(alpha, beta, betas_objects):
    from accounts.models import ApiKey
    from alerts.models import Alert, AlertRule, Channel, Silence
    from sites.models import Site
    from telemetry.models import Battery, Meter

    for client in (alpha.api(), alpha.http("admin")):
        for method, path, parameter in _object_operations(alpha):
            resource = next(name for prefix, name in RESOURCES if path.startswith(prefix))
            _call(client, method, path.replace(f"{{{parameter}}}", str(betas_objects[resource])))

    with schema_context(beta.slug):
        alert = Alert.objects.get(pk=betas_objects["alert"])
        assert (alert.status, alert.acknowledged_at, alert.comments.count()) == ("firing", None, 0)
        assert ApiKey.objects.get(pk=betas_objects["api_key"]).revoked_at is None
        for model, name in [
            (AlertRule, "rule"),
            (Silence, "silence"),
            (Channel, "channel"),
            (Site, "site"),
            (Battery, "battery"),
            (Meter, "meter"),
        ]:
            assert model.objects.filter(pk=betas_objects[name]).exists(), name
