"""`make run`: the whole platform in one terminal, on embedded defaults.

Starts (or reuses) PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset, migrates, seeds the
demo tenants, then runs the ASGI server, a Celery worker and Celery beat (and the Kafka relay when
KAFKA_BOOTSTRAP_SERVERS is set). Ctrl-C stops every process it started; data stays under `.data/`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def log(message: str) -> None:
    print(f"[voltwatch] {message}", flush=True)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def prepare_services() -> None:
    """Export DATABASE_URL and REDIS_URL for the children, starting embedded servers if needed."""
    from config import embedded

    if not os.environ.get("DATABASE_URL"):
        log("DATABASE_URL not set: starting the embedded PostgreSQL (data in .data/postgres)")
        os.environ["DATABASE_URL"] = embedded.postgres_url()
    if not os.environ.get("REDIS_URL"):
        log("REDIS_URL not set: starting the embedded Redis (data in .data/redis)")
        os.environ["REDIS_URL"] = embedded.redis_url()


def manage(*args: str) -> str:
    result = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"`manage.py {' '.join(args)}` failed; see above.")
    return result.stdout


def child_commands(host: str, port: int) -> dict[str, list[str]]:
    from config.embedded import DATA_DIR as data

    data.mkdir(parents=True, exist_ok=True)
    commands = {
        "web": [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log" if os.environ.get("ACCESS_LOG", "0") == "0" else "--access-log",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(data / "celerybeat-schedule"),
        ],
    }
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        # Readings reach Kafka through the outbox; the relay publishes it (see outbox/relay.py).
        commands["relay"] = [str(BIN / "python"), "manage.py", "kafka_relay"]
    return commands


def banner(seed_output: str, host: str, port: int) -> None:
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    lines = [
        "",
        "=" * 78,
        f"  Voltwatch is running.   Public site: http://{shown_host}:{port}/   Staff admin: /admin/",
        "  Demo portals and logins:",
        *("    " + line for line in seed_output.strip().splitlines()),
        f"  API docs on any portal: /api/v1/docs/      Health: http://{shown_host}:{port}/healthz",
        "  Ctrl-C stops everything; data stays in .data/ for the next `make run`.",
        "=" * 78,
        "",
    ]
    print("\n".join(lines), flush=True)


def supervise(processes: dict[str, subprocess.Popen]) -> int:
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                log(f"{name} exited with status {process.returncode}; stopping the platform")
                exit_code = process.returncode or 1
                stopping = True
                break
        time.sleep(0.3)

    log("stopping…")
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in time; killing it")
            process.kill()
    log("stopped")
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo tenants")
    options = parser.parse_args()

    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SITE_PORT", str(options.port))
    if port_in_use("127.0.0.1", options.port):
        raise SystemExit(f"Port {options.port} is already in use: stop what uses it, or run `PORT=8001 make run`.")

    prepare_services()
    log("applying migrations")
    manage("migrate_schemas", "--noinput", "-v", "0")
    seed_output = "" if options.no_seed else manage("seed_demo")
    if not options.no_seed:
        os.environ.setdefault("DEMO_SCHEMAS", "nordbatt,bornexpress")  # live demo data for the demo tenants

    processes = {
        name: subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True)
        for name, command in child_commands(options.host, options.port).items()
    }
    deadline = time.monotonic() + 30
    while not port_in_use("127.0.0.1", options.port) and time.monotonic() < deadline:
        if processes["web"].poll() is not None:
            break
        time.sleep(0.2)
    banner(seed_output, options.host, options.port)
    return supervise(processes)


if __name__ == "__main__":
    sys.exit(main())
