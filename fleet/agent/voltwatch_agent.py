#!/usr/bin/env python3
"""Voltwatch field agent: runs on a Raspberry Pi (or any Linux box), reports to the platform.

Standard library + psutil only. Configured by environment variables (the customer's names kept):
  MONITORING_SERVER    platform URL, e.g. https://acme.voltwatch.example.com   (required)
  MONITORING_API_KEY   the device's (or the company's) ingest key                (required)
  SITE_ID              this device's id, e.g. cesson-b827eb123456               (default: hostname-MAC)
  CLUB_NAME            the site it belongs to, e.g. CESSON
  MONITORING_INTERVAL  metrics period in ms (default 300000 = 5 min)
  HEARTBEAT_INTERVAL   heartbeat period in ms (default 30000 = 30 s)
  MONITORED_SERVICES   comma-separated systemd units to report (default: all running services)
  APPLICATION_PATHS    comma-separated name=path pairs whose presence is reported
  SPOOL_DIR            where reports wait while the server is unreachable (default /var/lib/voltwatch-agent)

Metrics go to POST /api/v1/fleet/metrics every interval, heartbeats to POST /api/v1/fleet/heartbeat.
When the server cannot be reached, metrics reports are kept on disk and sent, oldest first, once it
answers again. `--once` sends one report and one heartbeat, then exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil

VERSION = "1.0.0"
THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
MAX_SPOOLED = 5000  # about 17 days of 5-minute reports
log = logging.getLogger("voltwatch-agent")


class Config:
    def __init__(self, env=os.environ):
        self.server = env.get("MONITORING_SERVER", "").rstrip("/")
        self.api_key = env.get("MONITORING_API_KEY", "")
        mac = f"{uuid.getnode():012x}"
        self.site_id = env.get("SITE_ID") or f"{socket.gethostname().lower()}-{mac}"
        self.club_name = env.get("CLUB_NAME", "")
        self.interval = int(env.get("MONITORING_INTERVAL", "300000")) / 1000
        self.heartbeat_interval = int(env.get("HEARTBEAT_INTERVAL", "30000")) / 1000
        self.services = [s.strip() for s in env.get("MONITORED_SERVICES", "").split(",") if s.strip()]
        self.applications = dict(
            pair.split("=", 1) for pair in env.get("APPLICATION_PATHS", "").split(",") if "=" in pair
        )
        self.spool = Path(env.get("SPOOL_DIR", "/var/lib/voltwatch-agent"))

    def problems(self) -> list[str]:
        missing = [
            name
            for name, value in (("MONITORING_SERVER", self.server), ("MONITORING_API_KEY", self.api_key))
            if not value
        ]
        problems = [f"{name} is not set" for name in missing]
        if self.server and not self.server.startswith(("https://", "http://")):
            problems.append("MONITORING_SERVER must start with https:// (or http:// on a private network)")
        return problems


# --- Collection ------------------------------------------------------------------------------------


def cpu_temperature() -> float | None:
    try:
        return round(int(THERMAL_ZONE.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        pass
    try:
        readings = psutil.sensors_temperatures()
    except (AttributeError, OSError):
        return None
    for entries in readings.values():
        if entries:
            return round(entries[0].current, 1)
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "model", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def services_status(wanted: list[str]) -> dict[str, str]:
    systemctl = shutil.which("systemctl")
    if not systemctl:
        return {}
    if wanted:
        states = {}
        for unit in wanted:
            result = subprocess.run([systemctl, "is-active", unit], capture_output=True, text=True, check=False)
            states[unit] = "running" if result.stdout.strip() == "active" else "stopped"
        return states
    result = subprocess.run(
        [systemctl, "list-units", "--type=service", "--state=running", "--no-legend", "--plain"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split()[0].removesuffix(".service"): "running" for line in result.stdout.splitlines() if line}


def network_interfaces() -> dict:
    stats, addresses = psutil.net_if_stats(), psutil.net_if_addrs()
    interfaces = {}
    for name, stat in stats.items():
        if name == "lo":
            continue
        ipv4 = [a.address for a in addresses.get(name, []) if a.family == socket.AF_INET]
        interfaces[name] = {
            "up": stat.isup,
            "speed": stat.speed,
            "addresses": ipv4,
            "wifi": name.startswith(("wlan", "wl")),
        }
    return {"interfaces": interfaces}


def collect(config: Config) -> dict:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage("/")
    report = {
        "siteId": config.site_id,
        "clubName": config.club_name,
        "timestamp": int(time.time()),
        "hostname": socket.gethostname(),
        "uptime": round(time.time() - psutil.boot_time()),
        "agentVersion": VERSION,
        "cpu": {
            "cores": psutil.cpu_count() or 1,
            "usage": f"{psutil.cpu_percent(interval=1):.1f}",
            "model": cpu_model(),
        },
        "memory": {"total": memory.total, "used": memory.total - memory.available, "percent": f"{memory.percent:.1f}"},
        "temperature": None,
        "disk": {"size": disk.total, "used": disk.used, "available": disk.free, "percent": round(disk.percent, 1)},
        "network": network_interfaces(),
        "services": services_status(config.services),
    }
    temperature = cpu_temperature()
    report["temperature"] = f"{temperature:.1f}" if temperature is not None else None
    if config.applications:
        report["application"] = {
            name: "ok" if Path(path).exists() else "missing" for name, path in config.applications.items()
        }
    return report


# --- Transport -------------------------------------------------------------------------------------


class Unreachable(Exception):
    """The server did not answer (or answered 5xx): keep the report for later."""


class Rejected(Exception):
    """The server refused the report (4xx): sending it again would not help."""


def post(config: Config, path: str, body: dict, timeout: float = 15) -> dict:
    request = urllib.request.Request(
        config.server + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Api-Key {config.api_key}",
            "User-Agent": f"voltwatch-agent/{VERSION}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        if exc.code >= 500 or exc.code == 429:
            raise Unreachable(f"HTTP {exc.code}: {detail}") from exc
        raise Rejected(f"HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(str(exc)) from exc


class Spool:
    """Reports waiting for the server, one JSON file each, named so they sort oldest first."""

    def __init__(self, directory: Path):
        self.directory = directory

    def add(self, report: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}.json"
        temporary = self.directory / f".{name}"
        temporary.write_text(json.dumps(report))
        temporary.rename(self.directory / name)
        waiting = self.waiting()
        for stale in waiting[: max(0, len(waiting) - MAX_SPOOLED)]:
            stale.unlink(missing_ok=True)

    def waiting(self) -> list[Path]:
        return sorted(self.directory.glob("[0-9]*.json")) if self.directory.exists() else []

    def flush(self, config: Config) -> int:
        sent = 0
        for path in self.waiting():
            try:
                report = json.loads(path.read_text())
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                continue
            try:
                post(config, "/api/v1/fleet/metrics", report)
            except Rejected as exc:
                log.error("server refused a kept report, dropping it: %s", exc)
            path.unlink(missing_ok=True)
            sent += 1
        return sent


def send_metrics(config: Config, spool: Spool) -> None:
    report = collect(config)
    try:
        flushed = spool.flush(config)
        if flushed:
            log.info("sent %d kept report(s)", flushed)
        post(config, "/api/v1/fleet/metrics", report)
        log.info("metrics sent")
    except Unreachable as exc:
        spool.add(report)
        log.warning("server unreachable (%s); report kept (%d waiting)", exc, len(spool.waiting()))
    except Rejected as exc:
        log.error("server refused the report: %s", exc)


def send_heartbeat(config: Config) -> bool:
    try:
        post(
            config,
            "/api/v1/fleet/heartbeat",
            {
                "siteId": config.site_id,
                "clubName": config.club_name,
                "agentVersion": VERSION,
                "timestamp": int(time.time()),
            },
            timeout=10,
        )
        return True
    except (Unreachable, Rejected) as exc:
        log.warning("heartbeat failed: %s", exc)
        return False


def run(config: Config, once: bool = False) -> int:
    spool = Spool(config.spool)
    log.info(
        "Voltwatch agent %s starting: site %s (%s), server %s",
        VERSION,
        config.site_id,
        config.club_name or "no club",
        config.server,
    )
    send_metrics(config, spool)
    send_heartbeat(config)
    if once:
        return 0
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    next_metrics = time.monotonic() + config.interval
    next_heartbeat = time.monotonic() + config.heartbeat_interval
    while not stopping:
        now = time.monotonic()
        if now >= next_heartbeat:
            send_heartbeat(config)
            next_heartbeat = now + config.heartbeat_interval
        if now >= next_metrics:
            send_metrics(config, spool)
            next_metrics = now + config.interval
        time.sleep(0.5)
    log.info("agent stopped")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Voltwatch field agent")
    parser.add_argument("--once", action="store_true", help="send one report and one heartbeat, then exit")
    parser.add_argument("--print", action="store_true", help="print the report it would send, send nothing")
    options = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(message)s")
    config = Config()
    if options.print:
        print(json.dumps(collect(config), indent=2))
        return 0
    problems = config.problems()
    if problems:
        print("voltwatch-agent: " + "; ".join(problems), file=sys.stderr)
        return 2
    return run(config, once=options.once)


if __name__ == "__main__":
    sys.exit(main())
