"""The API answers as its OpenAPI document says: Schemathesis generates requests for every documented
operation, valid and invalid, and sends them to the real ASGI server; no answer may be a 5xx, and
each status, content type and body must be one the document declares.

The requests go to a tenant of their own ("fuzz"): the server commits what they create, and the
alpha and beta tenants other tests count on must not see it. Its rate limit is lifted so that the
fuzzing measures the API, not the throttle.
"""

import time

import httpx
import pytest
import schemathesis
from django.db import connection
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_objects import one_of_each
from tests.conftest import build_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bounded for a 2-core machine shared with other runs: 78 operations, 20 generated requests each (plus the
# schema's own examples), about 1,600 requests, under a minute on an idle machine. Coverage phase off: its
# thousands of boundary cases tripled the time.
MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_world(worlds, django_db_blocker):
    from tenants.models import Client

    with django_db_blocker.unblock():
        world = build_world("fuzz", "Fuzz Lab")
        world.blocker = django_db_blocker
        Client.objects.filter(pk=world.tenant.pk).update(api_rate="1000000/min")
    yield world
    with django_db_blocker.unblock():
        Client.objects.get(pk=world.tenant.pk).delete(force_drop=True)
    connection.set_schema_to_public()


def _credentials(world) -> dict[str, str]:
    """The tenant's host and its read-write-ingest key: the server is reached at 127.0.0.1."""
    return {"Host": world.host, "Authorization": f"Api-Key {world.api_token}"}


def _api(asgi_server, world) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{asgi_server.port}", headers=_credentials(world), timeout=30)


@pytest.fixture(scope="module")
def seeded(asgi_server, fuzz_world) -> dict[str, object]:
    """One object of each kind, made through the API, so that lists and details have rows to show
    (and their empty, nullable fields)."""
    with _api(asgi_server, fuzz_world) as api:

        def made(path: str, body: dict) -> dict:
            response = api.post(path, json=body)
            assert response.status_code in (200, 201), (path, response.status_code, response.text)
            return response.json()

        objects = one_of_each(made)
        made(
            "/api/v1/telemetry/readings",
            {"kind": "battery", "readings": [{"asset": "SN-1", "time": int(time.time()), "values": {"voltage": 51.2}}]},
        )
    return objects


@pytest.fixture(scope="module")
def api_schema(asgi_server, fuzz_world, seeded):
    base_url = f"http://127.0.0.1:{asgi_server.port}"
    headers = _credentials(fuzz_world)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261202,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "no-shrink": True},
            "phases": {
                "stateful": {"enabled": False},
                "coverage": {"enabled": False},
            },
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/?format=json", config=config, headers=headers)
    schema.config.update(base_url=base_url, headers=headers, request_timeout=30)
    return schema


def _seeded_path_parameters(seeded) -> dict[str, dict]:
    return {
        "/api/v1/alerts/{id}": {"id": seeded["alert"]["id"]},
        "/api/v1/alerts/{id}/comments": {"id": seeded["alert"]["id"]},
        "/api/v1/alerts/rules/{id}": {"id": seeded["rule"]["id"]},
        "/api/v1/alerts/silences/{id}": {"id": seeded["silence"]["id"]},
        "/api/v1/alerts/channels/{id}": {"id": seeded["channel"]["id"]},
        "/api/v1/fleet/sites/{site_id}": {"site_id": "club-1"},
        "/api/v1/fleet/sites/{site_id}/history": {"site_id": "club-1"},
        "/api/v1/telemetry/sites/{id}/": {"id": seeded["site"]["id"]},
        "/api/v1/telemetry/batteries/{id}/": {"id": seeded["battery"]["id"]},
        "/api/v1/telemetry/meters/{id}/": {"id": seeded["meter"]["id"]},
    }


def test_each_existing_object_is_described_by_its_schema(api_schema, fuzz_world, seeded):
    """Generated ids seldom hit an object: read each seeded one, with its empty (null) fields."""
    checked = []
    for path, parameters in _seeded_path_parameters(seeded).items():
        case = api_schema[path]["GET"].Case(path_parameters=parameters)
        response = case.call_and_validate(checks=CHECKS, headers=_credentials(fuzz_world))
        checked.append((path, response.status_code))

    assert checked == [(path, 200) for path in _seeded_path_parameters(seeded)]


# Last in the module: its generated DELETEs and PUTs may remove or change the seeded objects.
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=CHECKS)
