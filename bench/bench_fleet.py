"""Fleet: heartbeats and metric posts per second through the real ASGI server (uvicorn, 2 workers),
with p50/p99 latency, and the time of one offline-detection sweep over 10,000 devices.

Targets (issue): >= 1,000 heartbeats/s with p99 <= 100 ms; sweep <= 1 s.
The load generator runs on the same 2-core machine as the server: read the figures as a floor.
    .venv/bin/python bench/bench_fleet.py [--devices 10000] [--requests 6000] [--concurrency 32]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ["VOLTWATCH_ENV"] = "test"  # production-like: DEBUG off
os.environ["DEBUG"] = "0"

from bench.setup import recreate_database  # noqa: E402

DATABASE = "voltwatch_bench_fleet"
HOST = "benchfleet.localhost"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def hammer(port: int, token: str, bodies: list[dict], path: str, concurrency: int) -> tuple[float, list[float]]:
    import httpx

    latencies: list[float] = []
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        limits=limits,
        timeout=30,
        headers={"Host": HOST, "Authorization": f"Api-Key {token}"},
    ) as client:

        async def worker():
            for body in queue:
                started = time.perf_counter()
                response = await client.post(path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


WRK_SCRIPT = """
counter = 0
PACING
request = function()
  counter = counter + 1
  local body = string.format('{"siteId": "pi-%05d", "agentVersion": "1.0.0"}', counter % DEVICES)
  return wrk.format("POST", "/api/v1/fleet/heartbeat",
    {["Host"] = "HOST", ["Authorization"] = "Api-Key TOKEN", ["Content-Type"] = "application/json"}, body)
end
"""


def wrk_heartbeats(
    port: int, token: str, devices: int, connections: int, seconds: int, delay_ms: float | None = None
) -> tuple[str, float] | None:
    """Heartbeats from wrk (C, one thread): a load generator that leaves the server most of the CPU.
    With `delay_ms`, each connection pauses that long after each response. Returns the report line
    and the rate achieved."""
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        return None
    pacing = f"function delay() return {round(delay_ms)} end" if delay_ms is not None else ""
    script = (
        WRK_SCRIPT.replace("PACING", pacing)
        .replace("DEVICES", str(devices))
        .replace("HOST", HOST)
        .replace("TOKEN", token)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            handle.name,
            f"http://127.0.0.1:{port}/api/v1/fleet/heartbeat",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    seen = next(line for line in lines if line.startswith("Requests/sec")).split()[1]
    latency = {
        parts[0]: parts[1] for parts in (line.split() for line in lines) if parts and parts[0] in ("50%", "90%", "99%")
    }
    errors = next((line.strip() for line in lines if "Non-2xx" in line or "Socket errors" in line), "no errors")
    label = "heartbeats (wrk, paced)" if delay_ms is not None else "heartbeats (wrk, max)"
    line = (
        f"{label:<22} {float(seen):>9.0f}/s   p50 {latency['50%']:>8}   p99 {latency['99%']:>8}"
        f"   ({seconds} s, {connections} connections, {errors})"
    )
    return line, float(seen)


def paced_wrk_heartbeats(port: int, token: str, devices: int, connections: int, seconds: int, rate: int):
    """wrk offering about `rate` heartbeats/s. wrk waits its delay after each response, so a
    connection's cycle is the delay plus the response time: a short first run measures the latter,
    and the delay is what is left of the cycle that `rate` asks for."""
    cycle_ms = connections * 1000 / rate
    calibration = wrk_heartbeats(port, token, devices, connections, 3, delay_ms=cycle_ms)
    if calibration is None:
        return None
    response_ms = max(0.0, connections * 1000 / calibration[1] - cycle_ms)
    return wrk_heartbeats(port, token, devices, connections, seconds, delay_ms=max(0.0, cycle_ms - response_ms))


def report(name: str, elapsed: float, latencies: list[float]) -> None:
    print(
        f"{name:<22} {len(latencies) / elapsed:>9.0f}/s   p50 {statistics.median(latencies) * 1000:6.1f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1000:6.1f} ms   ({len(latencies)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from accounts.services import create_api_key
    from fleet.models import Device, SweepState
    from fleet.services import detect_offline
    from provisioning.services import create_client
    from sites.models import Site
    from tests.conftest import free_port, wait_for_port

    call_command("migrate_schemas", interactive=False, verbosity=0)
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this bench's own Redis DB: no state from a past run
    client = create_client(
        name="Bench Fleet", slug="benchfleet", admin_email="a@bench.test", admin_password="x" * 12
    ).client
    client.api_rate = "10000000/min"  # one company key for 10,000 devices: staff raise its rate, as they would
    client.save(update_fields=["api_rate"])
    now = timezone.now()
    with schema_context("benchfleet"):
        _key, token = create_api_key(name="bench", scopes=["ingest", "read"])
        sites = Site.objects.bulk_create(Site(name=f"Club {n}", code=f"club-{n}") for n in range(options.devices // 10))
        Device.objects.bulk_create(
            Device(
                site=sites[n % len(sites)],
                external_id=f"pi-{n:05d}",
                name=f"pi-{n:05d}",
                status="ok",
                is_new=False,
                last_seen=now,
            )
            for n in range(options.devices)
        )

    # Measure the steady state, not the aftermath of this script's bulk load: let PostgreSQL analyse
    # the new rows and write its checkpoint now rather than during the measurement.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        wait_for_port(port, server)
        time.sleep(2)
        warmup = [{"siteId": f"pi-{n % options.devices:05d}"} for n in range(300)]
        asyncio.run(hammer(port, token, warmup, "/api/v1/fleet/heartbeat", options.concurrency))
        wrk_lines = [
            wrk_heartbeats(port, token, options.devices, options.concurrency, 10),
            paced_wrk_heartbeats(port, token, options.devices, options.concurrency, 10, rate=1000),
        ]
        beats = [{"siteId": f"pi-{n % options.devices:05d}", "agentVersion": "1.0.0"} for n in range(options.requests)]
        heartbeat = asyncio.run(hammer(port, token, beats, "/api/v1/fleet/heartbeat", options.concurrency))
        stamp = int(time.time())
        reports = [
            {
                "siteId": f"pi-{n % options.devices:05d}",
                "clubName": "",
                "timestamp": stamp - n // options.devices,
                "cpu": {"cores": 4, "usage": "45.2"},
                "memory": {"total": 4096000000, "used": 1536000000, "percent": "37.5"},
                "temperature": "52.4",
                "disk": {"size": "32G", "used": "12G", "available": "18G", "percent": 40},
                "services": {"nginx": "running", "hostapd": "running"},
            }
            for n in range(options.requests // 3)
        ]
        metrics = asyncio.run(hammer(port, token, reports, "/api/v1/fleet/metrics", options.concurrency))
    finally:
        server.terminate()
        server.wait(15)

    with schema_context("benchfleet"):
        sweep_now = timezone.now()
        SweepState.objects.update_or_create(
            pk=1, defaults={"last_run": sweep_now - timedelta(seconds=30), "grace_until": None}
        )
        started = time.perf_counter()
        detect_offline(sweep_now)
        quiet_sweep = time.perf_counter() - started
        stale = list(Device.objects.order_by("pk").values_list("pk", flat=True)[: options.devices // 100])
        Device.objects.filter(pk__in=stale).update(last_seen=sweep_now - timedelta(minutes=10))
        started = time.perf_counter()
        declared = detect_offline(sweep_now + timedelta(seconds=30))
        busy_sweep = time.perf_counter() - started

    print()
    print(
        f"Fleet ingestion through uvicorn ({options.workers} workers), {options.concurrency} concurrent clients "
        f"on the same 2 cores"
    )
    report("heartbeats (httpx)", *heartbeat)
    for measured in filter(None, wrk_lines):
        print(measured[0])
    if not any(wrk_lines):
        print("heartbeats (wrk)             not measured: wrk is not installed (`make bench` installs it)")
    report("metric reports", *metrics)
    print(
        f"Offline sweep over {options.devices} devices: {quiet_sweep * 1000:.1f} ms with none silent; "
        f"{busy_sweep * 1000:.0f} ms declaring {declared} offline (1 %, each with its alert)"
    )
    print("Targets: >= 1,000 heartbeats/s with p99 <= 100 ms; sweep <= 1 s.")


if __name__ == "__main__":
    main()
