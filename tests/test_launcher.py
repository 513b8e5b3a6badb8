"""`make run` on a machine with nothing but Python: embedded PostgreSQL and Redis, the web server,
Celery worker and beat, demo tenants; a process that dies is started again; Ctrl-C stops it all;
a second run finds the data again."""

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.conftest import BASE_DIR, free_port

pytestmark = pytest.mark.timeout(240)


def start(data_dir, port: int) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "VOLTWATCH_ENV", "CELERY_TASK_ALWAYS_EAGER", "SITE_PORT"}
    }
    env.update(VOLTWATCH_DATA_DIR=str(data_dir), PORT=str(port))
    return subprocess.Popen(
        [sys.executable, "-m", "config.launcher"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen, marker: str, timeout: float = 180) -> str:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("launcher output never showed " + repr(marker) + ":\n" + "".join(lines[-40:]))


def processes_using(data_dir) -> set[int]:
    """The embedded PostgreSQL and Redis run detached; they are known by their data directory."""
    found = set()
    for candidate in psutil.process_iter(["pid", "cmdline"]):
        if str(data_dir) in " ".join(candidate.info["cmdline"] or []):
            found.add(candidate.info["pid"])
    return found


def stop(process: subprocess.Popen, data_dir) -> list[int]:
    """Ctrl-C the launcher; return whatever it started that is still alive."""
    started = {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
    started |= processes_using(data_dir)
    assert started, "the launcher started nothing"
    process.send_signal(signal.SIGINT)
    process.wait(60)
    time.sleep(1)
    return [pid for pid in started if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]


def test_make_run_starts_everything_embedded_and_stops_it_all(tmp_path):
    port = free_port()
    launcher = start(tmp_path, port)
    try:
        banner = read_until(launcher, "Ctrl-C stops everything")
        assert "embedded PostgreSQL" in banner and "embedded Redis" in banner
        assert f"http://nordbatt.localhost:{port}/" in banner and "admin@nordbatt.demo" in banner

        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert health["checks"]["postgres"]["ok"] and health["checks"]["redis"]["ok"]
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={
                "Host": "nordbatt.localhost",
                "Authorization": "Api-Key vw_demo-nordbatt-key-0000000000000000000000",
            },
        )
        assert me.json()["tenant"]["name"] == "Nord Batteries"
        login = httpx.post(f"http://127.0.0.1:{port}/accounts/login/", headers={"Host": "bornexpress.localhost"})
        assert login.status_code == 403  # CSRF: the page is served by the real stack
        process_names = " ".join(
            " ".join(child.cmdline()) for child in psutil.Process(launcher.pid).children(recursive=True)
        )
        assert "uvicorn" in process_names and "worker" in process_names and "beat" in process_names
    finally:
        survivors = stop(launcher, tmp_path)
    assert survivors == []
    assert (tmp_path / "postgres" / "PG_VERSION").exists()

    again = start(tmp_path, port)
    try:
        read_until(again, "Ctrl-C stops everything")
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Host": "bornexpress.localhost", "X-API-Key": "vw_demo-bornexpress-key-000000000000000000"},
        )
        assert me.status_code == 200
    finally:
        assert stop(again, tmp_path) == []


def test_a_child_that_dies_is_started_again_and_the_platform_stays_up(tmp_path):
    port = free_port()
    launcher = start(tmp_path, port)
    try:
        read_until(launcher, "Ctrl-C stops everything")
        children = {child.pid: " ".join(child.cmdline()) for child in psutil.Process(launcher.pid).children()}
        worker = next(pid for pid, command in children.items() if " worker " in f"{command} ")
        web = next(pid for pid, command in children.items() if "uvicorn" in command)

        os.kill(worker, signal.SIGKILL)
        restarted = read_until(launcher, "worker started again", timeout=30)
        assert "worker exited with status -9; restarting it in 1 s" in restarted
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # the rest never stopped
        assert psutil.pid_exists(web) and psutil.Process(web).status() != "zombie"

        os.kill(web, signal.SIGKILL)
        read_until(launcher, "web started again", timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.5)
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Host": "nordbatt.localhost", "X-API-Key": "vw_demo-nordbatt-key-0000000000000000000000"},
        )
        assert me.status_code == 200
        commands = " ".join(" ".join(child.cmdline()) for child in psutil.Process(launcher.pid).children())
        assert "uvicorn" in commands and "worker" in commands and "beat" in commands
    finally:
        survivors = stop(launcher, tmp_path)
    assert survivors == []
