"""`make run`: the whole platform in one terminal, on embedded defaults.

Starts (or reuses) PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset, migrates, seeds the
demo tenants, then runs the ASGI server, a Celery worker and Celery beat (and the Kafka relay when
KAFKA_BOOTSTRAP_SERVERS is set). A process that dies is started again (Supervisor); Ctrl-C stops
every process it started; data stays under `.data/`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESTART_DELAYS_S = (1, 2, 4, 8, 16, 30)  # before restarting a child that died, by deaths in a row
STABLE_AFTER_S = 60  # a child that ran this long before dying is restarted after the first delay


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
            # Open websockets would hold a restart or Ctrl-C for as long as they stay open.
            "--timeout-graceful-shutdown",
            "5",
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
    # Stored readings against the threshold rules, whichever process stored them (telemetry/checker.py).
    commands["checker"] = [str(BIN / "python"), "manage.py", "check_thresholds"]
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


@dataclass
class Child:
    """One process of the platform, started again whenever it dies."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # deaths in a row, each soon after its start
    restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=BASE_DIR, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None


class Supervisor:
    """Keeps every child running: one that exits (the relay while PostgreSQL is down, a worker
    killed for its memory) is started again after a delay that doubles with each quick death
    (RESTART_DELAYS_S), so that a platform with a part down keeps the other parts up and comes
    back whole by itself. Only Ctrl-C (SIGINT) or SIGTERM stops everything."""

    def __init__(self, commands: dict[str, list[str]]):
        self.children = {name: Child(name, command) for name, command in commands.items()}
        self.stopping = False

    def start(self) -> None:
        for child in self.children.values():
            child.start()

    def process(self, name: str) -> subprocess.Popen:
        return self.children[name].process

    def run(self) -> int:
        def request_stop(signum, _frame):
            self.stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children.values():
                self._look_after(child, now)
            time.sleep(0.3)
        self._stop_all()
        return 0

    def _look_after(self, child: Child, now: float) -> None:
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
                log(f"{child.name} started again (pid {child.process.pid})")
            return
        if child.process.poll() is None:
            return
        if now - child.started_at >= STABLE_AFTER_S:
            child.failures = 0  # it had been running fine: this death is news, not a crash loop
        delay = RESTART_DELAYS_S[min(child.failures, len(RESTART_DELAYS_S) - 1)]
        child.failures += 1
        child.restart_at = now + delay
        log(f"{child.name} exited with status {child.process.returncode}; restarting it in {delay:g} s")

    def _stop_all(self) -> None:
        log("stopping…")
        running = [child for child in self.children.values() if child.restart_at is None]
        for child in running:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in running:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{child.name} did not stop in time; killing it")
                child.process.kill()
        log("stopped")


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
    seed_output = "" if options.no_seed else manage("seed_demo", "--charging")
    if not options.no_seed:
        os.environ.setdefault("DEMO_SCHEMAS", "nordbatt,bornexpress")  # live demo data for the demo tenants

    supervisor = Supervisor(child_commands(options.host, options.port))
    supervisor.start()
    deadline = time.monotonic() + 30
    while not port_in_use("127.0.0.1", options.port) and time.monotonic() < deadline:
        if supervisor.process("web").poll() is not None:
            break
        time.sleep(0.2)
    banner(seed_output, options.host, options.port)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
