"""Bad input is answered 4xx, naming the field, and stores nothing — on every path that takes input:
the readings batch, fleet metrics and heartbeats (Django and the ASGI fast path), the Shelly webhook
and websocket, ThingSet, foxBMS, and the query strings and paths of the API and the portal.

The property-based tests at the end throw arbitrary JSON-shaped values and arbitrary bytes at each
ingest path; the examples before them are the classes of input that answered 500 before."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from django.db import connection
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.models import Device, MetricSnapshot
from telemetry.models import BatteryReading, MeterReading
from tests.conftest import run_async
from tests.factories import make_battery, make_meter
from tests.test_heartbeat_fast_path import known_device  # noqa: F401  (a fixture)
from tests.test_telemetry_devices import foxbms_battery, mini_dbc_text  # noqa: F401  (fixtures)
from tests.test_telemetry_live import committed  # noqa: F401  (a fixture)

TS = 1795500000  # 2026-11-24
DEEP = 5000  # levels: beyond orjson's limit of 1,024, and Python's recursion limit
DEEP_BODY = '{"readings": ' + "[" * DEEP + "]" * DEEP + "}"

# Moments no clock gives, in every form a device may send one.
BAD_MOMENTS = [
    1e20,  # milliseconds of year 3 million
    253402300800,  # one second after 9999-12-31, in seconds
    253402300800000,  # the same, in milliseconds
    -1,
    "0001-01-01T00:00:00+01:00",  # year 1 with an offset: out of range once in UTC
    "9999-12-31T23:59:59-01:00",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "9" * 400,
    2**63,
    10**30,
]


def count(world, model) -> int:
    with schema_context(world.slug):
        found = model.objects.count()
    connection.set_schema_to_public()
    return found


def refused(response, status=400) -> dict:
    """The fields of a refusal, as paths (`memory.total`, nested or not): the status asked for, and a
    JSON error naming at least one field."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["error"] and body["detail"] and body["fields"], body
    return dict(paths(body["fields"]))


def paths(fields: dict, prefix: str = ""):
    for name, reason in fields.items():
        if isinstance(reason, dict):
            yield from paths(reason, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", reason


@pytest.fixture
def battery(alpha):
    return make_battery(alpha, serial="NB-RACK-01", cell_count=4)


@pytest.fixture
def meter(alpha):
    return make_meter(alpha, device_id="shellypro1pm-30c6f782d2b8")


def reading(**changes) -> dict:
    return {"asset": "NB-RACK-01", "time": TS, "values": {"voltage": 51.2, "soc": 80}} | changes


def post_readings(world, body, content_type="application/json"):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return world.api().post("/api/v1/telemetry/readings", body, content_type=content_type)


# --- The readings batch ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"readings": [{"asset": "NB-\xff", "time": 1795500000, "values": {"soc": 1}}]}', "body"),
        ('{"readings": [{"asset": "\\ud800", "time": 1795500000, "values": {"soc": 1}}]}', "body"),
        (json.dumps({"readings": [reading(asset="NB-RACK-01\x00")]}), "readings[0].asset"),
        (json.dumps({"readings": [reading(values={"state\x00": "idle"})]}), "readings[0].values.state\\u0000"),
        (json.dumps({"readings": [reading(values={"state": "idle\x00"})]}), "readings[0].values.state"),
        ('{"readings": [{"asset": "NB-RACK-01", "time": 1795500000, "values": {"voltage": 1e400}}]}', "body"),
        (
            '{"readings": [{"asset": "NB-RACK-01", "time": 1795500000, "values": {"voltage": 4%s}}]}' % ("0" * 400),
            "body",
        ),
        (json.dumps({"readings": [reading(asset=2**63)]}), "readings[0].asset"),
        (json.dumps({"readings": [reading(asset=2**63 - 1)]}), "readings[0].asset"),  # fits, but no such asset
        (json.dumps({"readings": [reading(asset=["NB-RACK-01"])]}), "readings[0].asset"),
        (json.dumps({"readings": [reading(asset={"serial": "NB-RACK-01"})]}), "readings[0].asset"),
        (json.dumps({"kind": ["battery"], "readings": [reading()]}), "kind"),
        (json.dumps({"readings": [reading(values={"cell_voltages": [[3.3]]})]}), "readings[0].values.cell_voltages"),
        ("[]", "readings"),
        ("{}", "readings"),
        ('"readings"', "readings"),
        (DEEP_BODY, "body"),
        ('{"readings": ' + "[" * 100 + "]" * 100 + "}", "readings" + "[0]" * 31),
        ('{"readings": [' + '{"a":' * 100 + "1" + "}" * 100 + "]}", "readings[0]" + ".a" * 30),
    ],
)
def test_a_batch_nothing_can_hold_is_refused_naming_the_field(alpha, battery, body, field):
    assert field in refused(post_readings(alpha, body))
    assert count(alpha, BatteryReading) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"readings": [{"asset": "NB-\xff"}]}', "Is not valid UTF-8."),
        (
            b'{"readings": [{"asset": "\\ud800"}]}',
            "A lone surrogate escape (\\ud800\u2013\\udfff) at character 25: not valid Unicode.",
        ),
    ],
)
def test_text_that_is_not_unicode_is_refused_in_words_a_client_understands(alpha, battery, body, reason):
    assert refused(post_readings(alpha, body)) == {"body": reason}
    assert count(alpha, BatteryReading) == 0


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_reading_at_a_moment_out_of_range_is_refused(alpha, battery, moment):
    fields = refused(post_readings(alpha, {"readings": [reading(time=moment)]}))
    assert "readings[0].time" in fields
    assert count(alpha, BatteryReading) == 0


def test_a_batch_in_another_content_type_is_refused_even_when_it_is_json(alpha, battery):
    fields = refused(post_readings(alpha, {"readings": [reading()]}, content_type="text/plain"), status=415)
    assert fields == {"Content-Type": "Send application/json."}
    assert count(alpha, BatteryReading) == 0


def test_a_form_posted_batch_is_refused(alpha, battery):
    response = alpha.api().post("/api/v1/telemetry/readings", {"readings": "x"})  # multipart
    refused(response, status=415)


# --- Fleet metrics and heartbeats ------------------------------------------------------------------


def metrics(**changes) -> dict:
    return {
        "siteId": "cesson-b827eb123456",
        "timestamp": int(time.time()),
        "cpu": {"cores": 4, "usage": "45.2"},
        "memory": {"total": 4096000000, "used": 1536000000, "percent": "37.5"},
        "disk": {"size": "32G", "used": "12G", "available": "18G", "percent": 40},
    } | changes


def post_fleet(world, path, body, content_type="application/json"):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return world.api().post(f"/api/v1/fleet/{path}", body, content_type=content_type)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"services": {"nginx\x00": "running"}}, "services.nginx\\u0000"),
        ({"services": {"nginx": "running\x00"}}, "services.nginx"),
        ({"network": {"eth0\x00": {"rx": 1}}}, "network.eth0\\u0000"),
        ({"application": {"neopro\x00": "ok"}}, "application.neopro\\u0000"),
        ({"clubName": "CESSON\x00"}, "clubName"),
        ({"memory": {"total": 2**63, "used": 1, "percent": 1}}, "memory.total"),
        ({"memory": {"total": 2**63 - 1, "used": 2**63 - 1, "percent": 1}}, None),  # the largest size: stored
        ({"memory": {"total": "99999999999P", "used": 1, "percent": 1}}, "memory.total"),
        ({"disk": {"size": "9" * 400, "used": 1, "available": 1, "percent": 1}}, "disk.size"),
        ({"disk": {"size": 1e300, "used": 1, "available": 1, "percent": 1}}, "disk.size"),
        ({"uptime": "1e400"}, "uptime"),
        ({"cpu": {"cores": 2**63, "usage": 1}}, "cpu.cores"),
        ({"network": json.loads("[" * 200 + "]" * 200)}, "network" + "[0]" * 31),
        ({"siteId": ["cesson-b827eb123456"]}, "siteId"),
    ],
)
def test_a_metrics_report_nothing_can_hold_is_refused_naming_the_field(alpha, changes, field):
    response = post_fleet(alpha, "metrics", metrics(**changes))
    if field is None:
        assert response.status_code == 201, response.content
        return
    assert field in refused(response)
    assert count(alpha, MetricSnapshot) == 0
    assert count(alpha, Device) == 0


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_metrics_report_at_a_moment_out_of_range_is_refused(alpha, moment):
    assert "timestamp" in refused(post_fleet(alpha, "metrics", metrics(timestamp=moment)))
    assert count(alpha, MetricSnapshot) == 0


@pytest.mark.parametrize("path", ["metrics", "heartbeat"])
def test_a_fleet_report_too_deep_for_python_is_refused(alpha, path):
    body = '{"siteId": "cesson-b827eb123456", "network": ' + "[" * DEEP + "]" * DEEP + "}"
    assert "body" in refused(post_fleet(alpha, path, body))
    assert count(alpha, Device) == 0


@pytest.mark.parametrize("path", ["metrics", "heartbeat"])
def test_a_fleet_report_as_a_form_is_refused(alpha, path):
    form = "application/x-www-form-urlencoded"
    refused(post_fleet(alpha, path, "siteId=cesson-b827eb123456", content_type=form), 415)
    assert count(alpha, Device) == 0


def beat(server, world, body: bytes, content_type="application/json"):
    return httpx.post(
        f"http://127.0.0.1:{server.port}/api/v1/fleet/heartbeat",
        headers={"Host": world.host, "Authorization": f"Api-Key {world.api_token}", "Content-Type": content_type},
        content=body,
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"siteId": "fast-pi-1"}', "text/plain", 415, "Content-Type"),
        (b'{"siteId": "fast-pi-1", "x": ' + b"[" * DEEP + b"]" * DEEP + b"}", "application/json", 400, "body"),
        (b'{"siteId": "fast-pi-1", "clubName": "\\u0000"}', "application/json", 400, "clubName"),
        (b'{"siteId": "fast-pi-1", "uptime": 9223372036854775808}', "application/json", 400, "uptime"),
        (b'{"siteId": "fast-pi-1", "timestamp": 1e20}', "application/json", 400, "timestamp"),
        (b'{"siteId": "fast-pi-\xff"}', "application/json", 400, "body"),
        (b"[]", "application/json", 400, "non_field_errors"),
    ],
)
def test_the_heartbeat_fast_path_refuses_what_django_refuses(
    worlds,
    asgi_server,
    known_device,  # noqa: F811
    django_db_blocker,
    body,
    content_type,
    status,
    field,
):
    alpha = worlds["alpha"]
    response = beat(asgi_server, alpha, body, content_type)
    assert field in refused(response, status)
    with django_db_blocker.unblock():
        by_django = alpha.api().post("/api/v1/fleet/heartbeat", body, content_type=content_type)
    connection.set_schema_to_public()
    assert by_django.json() == response.json()


def test_the_heartbeat_fast_path_hands_a_query_string_to_django(worlds, asgi_server, known_device):  # noqa: F811
    alpha = worlds["alpha"]
    response = httpx.post(
        f"http://127.0.0.1:{asgi_server.port}/api/v1/fleet/heartbeat?site=%00",
        headers={"Host": alpha.host, "Authorization": f"Api-Key {alpha.api_token}"},
        json={"siteId": "fast-pi-1"},
    )
    assert refused(response) == {"site": "Contains a NUL character (\\u0000)."}


# --- Shelly: webhook and websocket -----------------------------------------------------------------


def shelly(world, body, query=""):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return world.api().post(f"/webhook/?device=shellypro1pm-30c6f782d2b8{query}", body, content_type="application/json")


def full_status(ts=TS, **changes) -> dict:
    return {
        "src": "shellypro1pm-30c6f782d2b8",
        "method": "NotifyFullStatus",
        "params": {"ts": ts, "switch:0": {"id": 0, "apower": 100.0, "voltage": 230.0}},
    } | changes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (full_status(src=["shellypro1pm-30c6f782d2b8"]), "src"),
        (full_status(src={"id": 1}), "src"),
        ({"switch:0": {"apower": 1.0}, "sys": {"mac": 30}}, "sys.mac"),
        ({"switch:0": {"apower": 1.0}, "sys": ["mac"]}, "sys"),
        (full_status(src="shellypro1pm-\x00"), "src"),
        (full_status(params={"ts": TS, "switch:0\x00": {"apower": 1.0}}), "params.switch:0\\u0000"),
        (b'{"power": 1, "voltage": \xff}', "body"),
        ('{"power": 1e400}', "body"),
        ("[]", "body"),
        ('{"params": ' + "[" * DEEP + "]" * DEEP + "}", "body"),
        ('{"method": "NotifyStatus", "params": ' + '{"a":' * 100 + "1" + "}" * 100 + "}", "params" + ".a" * 31),
    ],
)
def test_a_shelly_message_nothing_can_hold_is_refused_naming_the_field(alpha, meter, body, field):
    assert field in refused(shelly(alpha, body))
    assert count(alpha, MeterReading) == 0


@pytest.mark.parametrize("moment", [m for m in BAD_MOMENTS if not isinstance(m, str)] + [0])
@pytest.mark.parametrize("where", ["params.ts", "sys.unixtime"])
def test_a_shelly_message_at_a_moment_out_of_range_is_refused(alpha, meter, moment, where):
    if where == "params.ts":
        body = full_status(ts=moment)
    else:
        body = {"switch:0": {"apower": 1.0}, "sys": {"mac": "30C6F782D2B8", "unixtime": moment}}
    assert where in refused(shelly(alpha, body))
    assert count(alpha, MeterReading) == 0


def test_a_shelly_webhook_query_with_a_nul_is_refused(alpha, meter):
    response = alpha.api().get("/webhook/?device=shellypro1pm-30c6f782d2b8&power=1%00")
    assert refused(response) == {"power": "Contains a NUL character (\\u0000)."}
    assert count(alpha, MeterReading) == 0


def test_a_shelly_webhook_query_that_is_not_utf8_is_refused(alpha, meter):
    response = alpha.api().get("/webhook/?device=shellypro1pm-%FF&power=1")
    assert refused(response) == {"device": "Is not valid UTF-8."}


def test_a_shelly_websocket_frame_too_deep_or_with_a_nul_is_answered_with_its_field(worlds, asgi_server, committed):  # noqa: F811
    alpha = worlds["alpha"]
    device, token = committed(make_meter, "meter", device_id="shellypro1pm-30c6f782d2c0")
    frames = [
        '{"src": "x", "params": ' + "[" * DEEP + "]" * DEEP + "}",
        json.dumps(full_status(src=device.device_id, params={"ts": TS, "switch:0": {"apower": 1.0, "x\x00": 1}})),
        json.dumps(full_status(src=device.device_id, params={"ts": 1e20, "switch:0": {"apower": 1.0}})),
        "[" * 40 + "]" * 40,
    ]

    async def scenario():
        async with websockets.connect(
            f"ws://{alpha.host}:{asgi_server.port}/ws/shelly/{token}/",
            host="127.0.0.1",
            port=asgi_server.port,
            open_timeout=10,
        ) as socket:
            replies = []
            for frame in frames:
                await socket.send(frame)
                replies.append(json.loads(await asyncio.wait_for(socket.recv(), 5)))
            return replies

    replies = run_async(scenario())
    messages = [reply["error"]["message"] for reply in replies]
    assert messages[0].startswith("body: Malformed JSON: depth limit exceeded")
    assert messages[1] == "params.switch:0.x\\u0000: In a key: Contains a NUL character (\\u0000)."
    assert messages[2].startswith("params.ts: Is after the year 2100")
    assert messages[3] == "[0]" * 32 + ": Nested deeper than 32 levels."
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        assert not MeterReading.objects.filter(asset_id=device.pk).exists()
    connection.set_schema_to_public()


# --- ThingSet and foxBMS ---------------------------------------------------------------------------


def post_text(world, path, battery, body: bytes | str, content_type="text/plain"):
    return world.api().post(f"{path}?battery={battery.serial}", body, content_type=content_type)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'#m {"t_s": 1795500000, "Bat_V": 51.2}\n#m {"SOC_pct": \xff}', "body"),
        (b'#m {"t_s": 1795500000, "Bat_V": 51.2}\x00', "body"),
        ('#m {"t_s": 1795500000, "Bat_V": 51.2, "NodeID": "a\\u0000"}', "NodeID"),
        ('#m {"t_s": 1795500000, "Bat_V": 1e400}', "line 1"),
        ('#m {"t_s": 1795500000, "Bat_V": ' + "[" * DEEP + "]" * DEEP + "}", "line 1"),
        ('{"t_s": 1795500000, "Bat": ' + '{"a":' * 100 + "1" + "}" * 100 + "}", "Bat" + ".a" * 31),
        ('{"t_s": 1795500000, "Bat_V": "\\ud800"}', "body"),
    ],
)
def test_a_thingset_body_nothing_can_hold_is_refused_naming_the_field(alpha, battery, body, field):
    assert field in refused(post_text(alpha, "/api/v1/telemetry/thingset", battery, body))
    assert count(alpha, BatteryReading) == 0


@pytest.mark.parametrize("moment", [m for m in BAD_MOMENTS if not isinstance(m, str)] + [0, 1795500000000])
def test_a_thingset_report_at_a_moment_out_of_range_is_refused(alpha, battery, moment):
    fields = refused(post_text(alpha, "/api/v1/telemetry/thingset", battery, f'#m {{"t_s": {moment}, "Bat_V": 51.2}}'))
    assert "t_s" in fields
    assert count(alpha, BatteryReading) == 0


@pytest.mark.parametrize("stamp", ["253402300800.000000", "9" * 400, "99999999999999999999.5", "0.000000"])
def test_a_candump_line_at_a_moment_out_of_range_is_refused(alpha, foxbms_battery, stamp):  # noqa: F811
    log = f"({stamp}) can0 233#0102030405060708"
    assert "line 1" in refused(post_text(alpha, "/api/v1/telemetry/foxbms", foxbms_battery, log))
    assert count(alpha, BatteryReading) == 0


def test_a_candump_log_that_is_not_utf8_is_refused(alpha, foxbms_battery):  # noqa: F811
    log = b"(1795500000.000000) can0 233#0102030405060708 \xff"
    assert refused(post_text(alpha, "/api/v1/telemetry/foxbms", foxbms_battery, log)) == {
        "body": "Not UTF-8 text: byte 46 is invalid."
    }


# --- Query strings and paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/fleet/sites?search=%00", "search"),
        ("/api/v1/fleet/sites?site=%00", "site"),
        ("/api/v1/fleet/sites?search=%FF", "search"),
        ("/api/v1/fleet/sites?%00=1", "\\u0000"),
        ("/api/v1/telemetry/series?assets=battery:%00", "assets"),
        ("/api/v1/telemetry/series?assets=battery:1&start=%00", "start"),
        ("/api/v1/fleet/sites/%00", "path"),
        ("/api/v1/fleet/sites/%00/history", "path"),
        ("/api/v1/fleet/sites/%FF%FE", "path"),
        ("/api/v1/telemetry/thingset?battery=NB-%00", "battery"),
    ],
)
def test_an_api_query_or_path_with_a_nul_or_not_utf8_is_refused_naming_it(alpha, path, field):
    assert field in refused(alpha.api().get(path))


@pytest.mark.parametrize(
    "query",
    [
        "start=1e20",
        "start=253402300800",
        "start=-1",
        "start=0001-01-01T00:00:00%2B01:00",
        "start=NaN",
        "end=Infinity",
        "end=" + "9" * 400,
    ],
)
def test_an_api_query_at_a_moment_out_of_range_is_refused(alpha, battery, query):
    response = alpha.api().get(f"/api/v1/telemetry/series?assets=battery:{battery.pk}&{query}")
    assert query.split("=")[0] in refused(response)


@pytest.mark.parametrize("query", ["start=1e20", "end=-1", "start=0001-01-01T00:00:00%2B01:00", "end=Infinity"])
def test_a_fleet_history_query_at_a_moment_out_of_range_is_refused(alpha, query):
    assert post_fleet(alpha, "metrics", metrics()).status_code == 201
    response = alpha.api().get(f"/api/v1/fleet/sites/cesson-b827eb123456/history?{query}")
    assert query.split("=")[0] in refused(response)


@pytest.mark.parametrize(
    "path", ["/fleet/?search=%00", "/alerts/?search=%00", "/batteries/?search=%00", "/fleet/%00/", "/fleet/?q=%C3%28"]
)
def test_a_portal_query_or_path_with_a_nul_or_not_utf8_is_an_error_page_in_the_portal(alpha, path):
    response = alpha.http("viewer").get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The address cannot be used" in page
    assert 'data-testid="user-menu"' in page  # the page is in the portal's layout


# --- Arbitrary input -------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=30,  # each example is a request: the file stays well under a minute on an idle machine
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["NB-RACK-01", "\x00", "\ud800", "1e400", "NaN", "2026-11-24T10:00:00Z", "99999999999P"])
)
KEYS = st.text(max_size=8) | st.sampled_from(["voltage", "switch:0", "nginx\x00", "\ud800"])
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)
# What a device might mangle: one of the fields of a good body replaced by anything.
READING_KEYS = st.sampled_from(["asset", "time", "values", "voltage", "soc", "cell_voltages", "state", "extra"])
ENCODED = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
)


def assert_answered_4xx_or_stored(response, stored_before: int, stored_after: int) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert body["fields"], body
        assert stored_after == stored_before, "a refused request stored rows"


def mangled_reading(key: str, value) -> dict:
    item = reading(values={"voltage": 51.2, "soc": 80, "cell_voltages": [3.3, 3.31], "state": "idle"})
    if key in item:
        item[key] = value
    else:
        item["values"][key] = value
    return {"readings": [item]}


@FUZZ
@given(key=READING_KEYS, value=JSON_VALUES)
def test_any_value_in_a_reading_is_stored_or_refused_naming_a_field(alpha, battery, key, value):
    before = count(alpha, BatteryReading)
    body = json.dumps(mangled_reading(key, value)).encode("utf-8", "surrogatepass")
    response = post_readings(alpha, body)
    assert_answered_4xx_or_stored(response, before, count(alpha, BatteryReading))


@FUZZ
@given(body=ENCODED)
def test_any_bytes_as_a_batch_are_refused_naming_a_field(alpha, battery, body):
    before = count(alpha, BatteryReading)
    response = post_readings(alpha, body)
    assert_answered_4xx_or_stored(response, before, count(alpha, BatteryReading))


@FUZZ
@given(
    key=st.sampled_from(["siteId", "timestamp", "cpu", "memory", "disk", "services", "network", "uptime"]),
    value=JSON_VALUES,
)
def test_any_value_in_a_metrics_report_is_stored_or_refused_naming_a_field(alpha, key, value):
    before = count(alpha, MetricSnapshot)
    body = json.dumps(metrics(**{key: value})).encode("utf-8", "surrogatepass")
    response = post_fleet(alpha, "metrics", body)
    assert_answered_4xx_or_stored(response, before, count(alpha, MetricSnapshot))


@FUZZ
@given(path=st.sampled_from(["metrics", "heartbeat"]), body=ENCODED)
def test_any_bytes_as_a_fleet_report_are_refused_naming_a_field(alpha, path, body):
    before = count(alpha, Device)
    response = post_fleet(alpha, path, body)
    assert_answered_4xx_or_stored(response, before, count(alpha, Device))


@FUZZ
@given(key=st.sampled_from(["src", "method", "params", "ts", "switch:0", "apower", "sys"]), value=JSON_VALUES)
def test_any_value_in_a_shelly_message_is_stored_or_refused_naming_a_field(alpha, meter, key, value):
    body = full_status()
    if key in body:
        body[key] = value
    elif key in body["params"]:
        body["params"][key] = value
    else:
        body["params"]["switch:0"][key] = value
    before = count(alpha, MeterReading)
    response = shelly(alpha, json.dumps(body).encode("utf-8", "surrogatepass"))
    assert_answered_4xx_or_stored(response, before, count(alpha, MeterReading))


@FUZZ
@given(body=ENCODED)
def test_any_bytes_as_a_shelly_message_are_refused_naming_a_field(alpha, meter, body):
    before = count(alpha, MeterReading)
    response = shelly(alpha, body)
    assert_answered_4xx_or_stored(response, before, count(alpha, MeterReading))


@FUZZ
@given(prefix=st.sampled_from([b"", b"#m ", b":85 ", b"(1795500000.0) can0 233#"]), body=ENCODED)
def test_any_bytes_as_a_device_upload_are_refused_naming_a_field(alpha, battery, foxbms_battery, prefix, body):  # noqa: F811
    for path, target in (("thingset", battery), ("foxbms", foxbms_battery)):
        before = count(alpha, BatteryReading)
        response = post_text(alpha, f"/api/v1/telemetry/{path}", target, prefix + body)
        assert_answered_4xx_or_stored(response, before, count(alpha, BatteryReading))


@FUZZ
@given(
    path=st.sampled_from(["/api/v1/fleet/sites", "/api/v1/telemetry/series", "/fleet/", "/alerts/"]),
    name=st.sampled_from(["search", "site", "status", "assets", "start", "end", "since", "page", "interval"]),
    value=st.binary(max_size=12) | st.sampled_from([b"\x00", b"\xff", b"1e400", b"-1", b"0001-01-01T00:00:00+01:00"]),
)
def test_any_query_string_is_answered_without_a_server_error(alpha, path, name, value):
    from urllib.parse import quote_from_bytes

    response = alpha.http("viewer").get(f"{path}?{name}={quote_from_bytes(value)}")
    assert response.status_code < 500, response.content[:500]
