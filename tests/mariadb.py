"""A MariaDB (or MySQL) server for the charging import tests and the benchmark.

    server = mariadb_server()                  # found or started, once per process
    params = server.fresh_database("voltwatch_test_charging")   # dropped and created again
    MySQLdb.connect(**params)                  # host, port, user, password, database

Where it comes from, in order: CHARGING_TEST_MYSQL_URL (mysql://user:password@host:port), else a
server answering on 127.0.0.1:3306 as root without a password, else one started here: Debian's
mariadb-server (installed with apt-get when `mariadbd` is missing, as the Makefile installs
Chromium), a data directory made by mariadb-install-db in a temporary directory, on a free port,
stopped when the process exits."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

URL_ENV = "CHARGING_TEST_MYSQL_URL"
START_TIMEOUT_S = 60


@dataclass
class MariaDB:
    host: str
    port: int
    user: str
    password: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)  # None: a server we did not start

    def params(self, database: str | None = None) -> dict:
        """Keyword arguments of MySQLdb.connect (and the fields of a ChargingSource)."""
        params = {"host": self.host, "port": self.port, "user": self.user, "password": self.password}
        if database:
            params["database"] = database
        return params

    def url(self, database: str = "") -> str:
        password = f":{self.password}" if self.password else ""
        return f"mysql://{self.user}{password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str | None = None, **options):
        import MySQLdb

        return MySQLdb.connect(**self.params(database), charset="utf8mb4", connect_timeout=5, **options)

    def fresh_database(self, name: str) -> dict:
        """Drop `name` if it exists, create it empty; returns the params to connect to it."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            connection.close()
        return self.params(name)

    def drop_database(self, name: str) -> None:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            connection.close()


def _answers(server: MariaDB) -> bool:
    try:
        server.connect().close()
    except Exception:  # refused, unknown user, not a MySQL server: none of them will do
        return False
    return True


def _from_url(url: str) -> MariaDB:
    parts = urlsplit(url)
    return MariaDB(host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=unquote(parts.username or "root"),
                   password=unquote(parts.password or ""))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _install() -> None:
    if Path(_binary("mariadbd")).exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "mariadb-server"], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _binary(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"  # /usr/sbin is not on every user's PATH


def start_mariadb() -> MariaDB:
    """A server of our own in a temporary directory, stopped (and its data removed) at exit."""
    _install()
    root = Path(tempfile.mkdtemp(prefix="voltwatch-mariadb-"))
    datadir, socket_path = root / "data", root / "mysql.sock"
    user_option = ["--user=root"] if os.geteuid() == 0 else []
    try:
        subprocess.run(
            [_binary("mariadb-install-db"), "--no-defaults", f"--datadir={datadir}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *user_option],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(root, ignore_errors=True)
        raise
    port = _free_port()
    process = subprocess.Popen(
        [_binary("mariadbd"), "--no-defaults", f"--datadir={datadir}", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={socket_path}", f"--pid-file={root / 'mariadb.pid'}", "--skip-grant-tables", "--local-infile=1",
         "--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=2", *user_option],
        stdout=subprocess.DEVNULL, stderr=open(root / "error.log", "wb"),  # noqa: SIM115 - lives as long as the server
    )  # fmt: skip
    server = MariaDB(host="127.0.0.1", port=port, user="root", process=process)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(server):
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {process.returncode}: {(root / 'error.log').read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"mariadbd did not answer on port {port} within {START_TIMEOUT_S} s")
        time.sleep(0.2)
    return server


_server: MariaDB | None = None


def mariadb_server() -> MariaDB:
    """The server of this process: found (CHARGING_TEST_MYSQL_URL, then 127.0.0.1:3306 root) or started."""
    global _server
    if _server is None:
        if os.environ.get(URL_ENV):
            _server = _from_url(os.environ[URL_ENV])
            if not _answers(_server):
                raise RuntimeError(f"{URL_ENV}={os.environ[URL_ENV]} does not answer")
        else:
            local = MariaDB(host="127.0.0.1", port=3306, user="root")
            _server = local if _answers(local) else start_mariadb()
    return _server
