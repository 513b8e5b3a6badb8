"""Shared by the benchmarks: a fresh database of their own on the same server the tests use."""

import os
from urllib.parse import urlsplit, urlunsplit

from config.embedded import use_local_services


def recreate_database(name: str) -> None:
    """Point DATABASE_URL at a fresh bench database on the same server."""
    import psycopg

    use_local_services(database=name, redis_db=15)
    if not os.environ.get("DATABASE_URL"):
        from config import embedded

        os.environ["DATABASE_URL"] = embedded.postgres_url()
    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def start_server(workers: int = 2):
    """The real ASGI application under uvicorn on this bench's database, with the threshold checker
    beside it as the launcher runs them (it shares the 2 cores). Returns (server process, port)."""
    import atexit
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import free_port, wait_for_port

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=root,
        env=dict(os.environ),
    )  # fmt: skip
    command = [sys.executable, "manage.py", "check_thresholds"]
    checker = subprocess.Popen(command, cwd=root, env=dict(os.environ), stdout=subprocess.DEVNULL)
    atexit.register(checker.terminate)
    wait_for_port(port, server)
    time.sleep(1.5)  # every worker up
    return server, port


def settle_database() -> None:
    """Measure the steady state, not the aftermath of the bench's own bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
