"""The real agent, run as on a Raspberry Pi, against the real server."""

import json
import os
import subprocess
import sys
import time

import pytest
from django_tenants.utils import schema_context

from tests.conftest import BASE_DIR, free_port, start_uvicorn

AGENT_HOST = "127.0.0.3"  # a loopback address any resolver knows, given to alpha as one of its domains

AGENT = BASE_DIR / "fleet" / "agent" / "voltwatch_agent.py"


def run_agent(server: str, token: str, spool, site_id: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        MONITORING_SERVER=server,
        MONITORING_API_KEY=token,
        SITE_ID=site_id,
        CLUB_NAME="AGENTVILLE",
        SPOOL_DIR=str(spool),
        MONITORED_SERVICES="voltwatch-test-unit-that-does-not-exist",
        LOG_LEVEL="INFO",
    )
    return subprocess.run([sys.executable, str(AGENT), "--once"], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def server_for_agents(worlds, django_db_blocker):
    """The real server, reachable at a URL a field device could be given."""
    from tenants.models import Domain

    with django_db_blocker.unblock():
        domain = Domain.objects.create(domain=AGENT_HOST, tenant=worlds["alpha"].tenant, is_primary=False)
    process, port = start_uvicorn(AGENT_HOST)
    yield f"http://{AGENT_HOST}:{port}"
    process.terminate()
    process.wait(10)
    with django_db_blocker.unblock():
        domain.delete()


def test_the_agent_reports_real_metrics_and_heartbeats(worlds, server_for_agents, tmp_path, django_db_blocker):
    alpha = worlds["alpha"]
    result = run_agent(server_for_agents, alpha.api_token, tmp_path, "agent-pi-1")

    assert result.returncode == 0, result.stderr
    assert "metrics sent" in result.stderr
    with django_db_blocker.unblock(), schema_context("alpha"):
        from fleet.models import Device

        device = Device.objects.get(external_id="agent-pi-1")
        assert device.site.name == "AGENTVILLE" and device.last_seen is not None
        snapshot = device.snapshots.get()
        assert 0 <= snapshot.cpu_usage <= 100 and snapshot.memory_total > 0 and snapshot.disk_size > 0
        assert device.latest["agentVersion"] == "1.0.0"


def test_the_agent_keeps_reports_while_the_server_is_down_and_sends_them_oldest_first(
    worlds, server_for_agents, tmp_path, django_db_blocker
):
    alpha = worlds["alpha"]
    down = f"http://127.0.0.1:{free_port()}"
    for attempt in range(2):
        if attempt:
            time.sleep(1.1)  # reports are stamped to the second: two distinct times
        result = run_agent(down, alpha.api_token, tmp_path, "agent-pi-2")
        assert "report kept" in result.stderr
    kept = [json.loads(path.read_text())["timestamp"] for path in tmp_path.glob("*.json")]
    assert len(kept) == 2

    result = run_agent(server_for_agents, alpha.api_token, tmp_path, "agent-pi-2")

    assert "sent 2 kept report(s)" in result.stderr, result.stderr
    assert list(tmp_path.glob("*.json")) == []
    with django_db_blocker.unblock(), schema_context("alpha"):
        from fleet.models import Device

        arrived = Device.objects.get(external_id="agent-pi-2").snapshots.order_by("received_at", "pk")
        times = [int(moment.timestamp()) for moment in arrived.values_list("time", flat=True)]
    assert times[:2] == sorted(kept)  # the kept reports first, oldest first
    assert len(times) == 3 and times[2] > times[1]  # then the report of the run that reached the server
