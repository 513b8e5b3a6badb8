"""Telemetry ingestion: readings/s through the API vs raw binary COPY into the same table, and the
latency from an ingest request to the reading on an open page's websocket.

1. POST /api/v1/telemetry/readings with 1,000- and 5,000-reading batches (outbox on, threshold
   rules on), through uvicorn (4 workers: a worker runs one sync view at a time, so more workers
   overlap database waits), from 6 concurrent clients, each a gateway reporting for its own 50
   batteries; against binary COPY of the same rows into the same table in the same run.
   Targets: >= 50,000 readings/s and >= 30 % of raw COPY.
2. At 1,000 readings/s (50 requests/s of 20 readings), request sent → page websocket received.
   Target p99 <= 250 ms.
The load generator shares the 2 cores with the server and PostgreSQL: read the figures as a floor.
    .venv/bin/python bench/bench_telemetry_ingest.py [--rounds 5] [--latency-only]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ["VOLTWATCH_ENV"] = "test"
os.environ["DEBUG"] = "0"
os.environ["OUTBOX_ENABLED"] = "1"  # the outbox is written as in production, no relay needed to measure

from bench.setup import percentile, recreate_database, settle_database, start_server  # noqa: E402

DATABASE = "voltwatch_bench_telemetry"
HOST = "benchtele.localhost"
BATTERIES = 50
CELLS = 16


def battery_values(n: int) -> dict:
    cells = [round(3.25 + (n % 7) * 0.001 + c * 0.0005, 4) for c in range(CELLS)]
    return {
        "voltage": round(sum(cells), 3),
        "current": -12.5 + (n % 10),
        "temperature": 25.0 + (n % 5),
        "soc": 50 + n % 40,
        "soh": 97.0,
        "cell_voltages": cells,
        "error_flags": 0,
        "state": "discharging",
    }


def batches(serials: list[str], size: int, count: int, start: datetime, gateways: int = 1) -> list[bytes]:
    """`count` request bodies of `size` readings, all distinct (asset, time). The batteries are split
    between `gateways`, which take turns: each body carries one gateway's batteries, as a gateway
    reports for the batteries wired to it (concurrent requests then write different assets)."""
    import orjson

    per_gateway = len(serials) // gateways
    moments = [start] * gateways
    bodies = []
    for index in range(count):
        gateway = index % gateways
        own = serials[gateway * per_gateway : (gateway + 1) * per_gateway]
        moment = moments[gateway]
        readings = []
        for n in range(size):
            readings.append({"asset": own[n % len(own)], "time": moment.isoformat(), "values": battery_values(n)})
            if n % len(own) == len(own) - 1:
                moment += timedelta(seconds=1)
        moments[gateway] = moment + timedelta(seconds=1)
        bodies.append(orjson.dumps({"kind": "battery", "readings": readings}))
    return bodies


async def post_all(port: int, token: str, bodies: list[bytes], concurrency: int) -> float:
    """POST every body, `concurrency` at a time; returns the elapsed seconds.

    The load generator shares the 2 cores with the server and PostgreSQL, so it is kept lean: each
    request is written as prepared bytes on its own connection and only the status line and the
    declared length of the answer are read (an HTTP client library cost 3 µs of CPU per reading
    sent, a tenth of the server's). A connection per request, as a fleet of devices and gateways
    makes: uvicorn's workers each accept connections, and six kept-alive connections could land
    on two of four workers and leave the others idle for the whole run."""
    head = (
        f"POST /api/v1/telemetry/readings HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Api-Key {token}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n"
    ).encode()
    queue = iter(bodies)

    async def post(body: bytes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        status = await reader.readline()
        headers = (await reader.readuntil(b"\r\n\r\n")).lower()
        length = int(headers.split(b"content-length:")[1].split(b"\r\n")[0])
        answer = await reader.readexactly(length)
        writer.close()
        if b" 201 " not in status:
            raise RuntimeError(f"{status.decode().strip()}: {answer[:300].decode()}")

    async def worker():
        for body in queue:
            await post(body)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def raw_copy_rate(asset_ids: list[int], total: int, start: datetime) -> float:
    """The ceiling: binary COPY of equivalent rows into the same table, 5,000 a statement. The rows
    are encoded beforehand (with the encoder the API uses), so only the transfer and PostgreSQL's
    own work are timed."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from telemetry.ingest.batch import Reading, ReadingBatch
    from telemetry.ingest.copy_binary import encode

    readings = []
    moment = start
    for n in range(total):
        readings.append(Reading(asset_ids[n % len(asset_ids)], moment, battery_values(n)))
        if n % len(asset_ids) == len(asset_ids) - 1:
            moment += timedelta(seconds=1)
    streams = []
    for offset in range(0, total, 5000):
        batch = ReadingBatch.from_readings("battery", readings[offset : offset + 5000])
        batch.derive_battery_values()
        columns, data = encode(batch)
        streams.append((f"COPY telemetry_battery_reading ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)", data))
    with schema_context("benchtele"), connection.cursor() as cursor:
        started = time.perf_counter()
        for statement, data in streams:
            with cursor.cursor.copy(statement) as copy:
                copy.write(data)
        return total / (time.perf_counter() - started)


async def latency_run(port: int, token: str, cookie: str, serials: list[str], seconds: int, start: datetime):
    """50 requests/s of 20 readings (1,000 readings/s); each request's readings are timed from the
    request being sent (and from its response) to the page's websocket delivering them."""
    import httpx
    import websockets
    from django.conf import settings

    sent_at: dict[int, tuple[float, float]] = {}
    received: list[tuple[float, float]] = []
    done = asyncio.Event()
    async with websockets.connect(
        f"ws://{HOST}:{port}/ws/notifications/", host="127.0.0.1", port=port, max_size=None,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
    ) as page:  # fmt: skip

        async def listen():
            while not done.is_set() or len(received) < len(sent_at) * 20:
                try:
                    message = json.loads(await asyncio.wait_for(page.recv(), 5))
                except TimeoutError:
                    return
                if message["type"] != "telemetry.readings":
                    continue
                now = time.perf_counter()
                for update in message["payload"]["updates"]:
                    for millis in update["points"]["t"]:
                        key = millis // 1000
                        if key in sent_at:
                            received.append((now - sent_at[key][0], now - sent_at[key][1]))

        listener = asyncio.create_task(listen())
        # Idle connections dropped before uvicorn's 5 s keep-alive ends: reusing one the server is
        # closing at that moment fails the request (seen once as a ReadError).
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, limits=httpx.Limits(keepalive_expiry=2),
            headers={"Host": HOST, "Authorization": f"Api-Key {token}"},
        ) as client:  # fmt: skip
            interval = 1 / 50
            begin = time.perf_counter()

            async def one(i: int):
                moment = start + timedelta(seconds=i)
                readings = [
                    {"asset": serials[k], "time": moment.isoformat(), "values": battery_values(k)} for k in range(20)
                ]
                key = int(moment.timestamp())
                started = time.perf_counter()
                sent_at[key] = (started, started)
                response = await client.post("/api/v1/telemetry/readings", json={"readings": readings})
                sent_at[key] = (started, time.perf_counter())
                assert response.status_code == 201, response.text

            tasks = []
            for i in range(seconds * 50):
                await asyncio.sleep(max(0, begin + i * interval - time.perf_counter()))
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        done.set()
        await listener
    return received, len(sent_at) * 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--latency-seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-only", action="store_true")
    options = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from accounts.models import User
    from accounts.services import create_api_key
    from provisioning.services import create_client
    from sites.models import Site
    from telemetry.models import AssetType, Battery

    call_command("migrate_schemas", interactive=False, verbosity=0)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    client = create_client(
        name="Bench Telemetry", slug="benchtele", admin_email="a@bench.test", admin_password="x" * 12
    ).client
    client.api_rate = "10000000/min"
    client.save(update_fields=["api_rate"])
    with schema_context("benchtele"):
        _key, token = create_api_key(name="bench", scopes=["ingest", "read"])
        site = Site.objects.create(name="Bench", code="bench")
        kind = AssetType.objects.create(name="Rack", kind="battery")
        api_batteries = Battery.objects.bulk_create(
            Battery(site=site, type=kind, name=f"B{n}", serial=f"B-{n:04d}")
            for n in range(BATTERIES * options.concurrency)  # each concurrent client a gateway of its own
        )
        copy_batteries = Battery.objects.bulk_create(
            Battery(site=site, type=kind, name=f"C{n}", serial=f"C-{n:04d}") for n in range(BATTERIES)
        )
        latency_batteries = Battery.objects.bulk_create(
            Battery(site=site, type=kind, name=f"L{n}", serial=f"L-{n:04d}") for n in range(20)
        )
        viewer = User.objects.create_user("viewer@bench.test", "x" * 12, role="viewer")
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore()
        session[SESSION_KEY] = str(viewer.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = viewer.get_session_auth_hash()
        session.create()
        cookie = session.session_key
    settle_database()

    serials = [b.serial for b in api_batteries]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    server, port = start_server(workers=options.workers)
    results = {}
    try:
        # Warm-up: a few requests per worker (each connection may land on any of them).
        warm_up = batches(serials, 1000, 4 * options.workers, start - timedelta(days=30))
        asyncio.run(post_all(port, token, warm_up, options.workers))
        # Latency first, at the steady 1,000 readings/s it is specified for, before the throughput
        # runs leave the database busy with their aftermath (autovacuum, checkpoints).
        received, expected = asyncio.run(
            latency_run(port, token, cookie, [b.serial for b in latency_batteries], options.latency_seconds,
                        start + timedelta(days=200))
        )  # fmt: skip
        # Each round times both batch sizes and the raw COPY back to back, so that each ratio compares
        # figures taken under the same load from the machine's other tenants (it varies by ±30 %).
        # Enough requests per size that the last wave (fewer requests than workers) weighs little.
        sizes = () if options.latency_only else ((1000, 60), (5000, 24))
        copy_rates = []
        for round_ in range(options.rounds):
            for size, count in sizes:
                moment = start + timedelta(days=round_ + (10 if size == 5000 else 0))
                bodies = batches(serials, size, count, moment, gateways=options.concurrency)
                elapsed = asyncio.run(post_all(port, token, bodies, options.concurrency))
                results.setdefault(size, []).append(size * count / elapsed)
            if sizes:
                copy_rates.append(
                    raw_copy_rate([b.pk for b in copy_batteries], 30_000, start + timedelta(days=100 + round_))
                )
    finally:
        server.terminate()
        server.wait(15)

    with schema_context("benchtele"):
        from outbox.services import backlog

        waiting, _age = backlog()
    copy_median = statistics.median(copy_rates) if copy_rates else float("nan")
    print()
    print(
        f"Telemetry ingestion, battery readings with 16 cell voltages each "
        f"(uvicorn {options.workers} workers, same 2 cores)"
    )
    print(f"raw binary COPY into the same table   {copy_median:>9,.0f} readings/s (median of {len(copy_rates)})")
    for size, rates in results.items():
        median = statistics.median(rates)
        ratios = [rate / copy for rate, copy in zip(rates, copy_rates, strict=True)]
        print(
            f"API, {size:>5}-reading batches         {median:>9,.0f} readings/s   "
            f"{statistics.median(ratios):6.1%} of raw COPY (median of the rounds' ratios)"
            f"   {options.concurrency} concurrent clients; rounds: {', '.join(f'{rate:,.0f}' for rate in rates)}"
        )
    print(f"outbox: {waiting:,} Kafka messages queued in the same transactions (one row per request)")
    from_send = [r[0] * 1000 for r in received]
    from_response = [r[1] * 1000 for r in received]
    print(
        f"ingest → websocket at 1,000 readings/s: {len(received):,}/{expected:,} delivered; commit (response) → "
        f"page p50 {statistics.median(from_response):.0f} ms p99 {percentile(from_response, 0.99):.0f} ms; "
        f"request sent → page p50 {statistics.median(from_send):.0f} ms p99 {percentile(from_send, 0.99):.0f} ms"
    )
    print("Targets: >= 50,000 readings/s and >= 30 % of raw COPY; websocket p99 <= 250 ms.")


if __name__ == "__main__":
    main()
