"""A MariaDB (or MySQL) for the charging tests and the benchmark: the one `CHARGING_TEST_MYSQL_URL`
names, else the machine's own on 127.0.0.1:3306 (root, no password), else one started here from
Debian's `mariadb-server` (installed when missing, as the Makefile does for Chromium) on a free
port with a temporary data directory, stopped when the process exits."""

import atexit
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import MySQLdb

from tests.conftest import free_port

READER_USER = "vw_reader"
READER_PASSWORD = "reader-secret-1"


@dataclass(frozen=True)
class MariaDB:
    host: str
    port: int
    user: str
    password: str

    def connect_args(self, database: str | None = None, *, user: str | None = None, password: str | None = None):
        args = {"host": self.host, "port": self.port, "user": user or self.user,
                "password": self.password if password is None else password, "charset": "utf8mb4"}  # fmt: skip
        return {**args, "database": database} if database else args

    def create_database(self, name: str) -> None:
        """A fresh database `name`, readable by READER_USER with READER_PASSWORD (a source's login)."""
        connection = MySQLdb.connect(**self.connect_args())
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            # 'localhost' too: a fresh server's anonymous ''@'localhost' would shadow '%' over loopback.
            for host in ("%", "localhost"):
                cursor.execute(f"CREATE USER IF NOT EXISTS '{READER_USER}'@'{host}' IDENTIFIED BY '{READER_PASSWORD}'")
                cursor.execute(f"GRANT SELECT ON `{name}`.* TO '{READER_USER}'@'{host}'")
        connection.close()

    def drop_database(self, name: str) -> None:
        connection = MySQLdb.connect(**self.connect_args())
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


def _answers(server: MariaDB) -> bool:
    try:
        MySQLdb.connect(**server.connect_args(), connect_timeout=2).close()
    except MySQLdb.Error:
        return False
    return True


@cache
def mariadb_server() -> MariaDB:
    url = os.environ.get("CHARGING_TEST_MYSQL_URL")
    if url:
        parts = urlsplit(url)
        server = MariaDB(parts.hostname or "127.0.0.1", parts.port or 3306, unquote(parts.username or "root"),
                         unquote(parts.password or ""))  # fmt: skip
        if not _answers(server):
            raise RuntimeError(f"CHARGING_TEST_MYSQL_URL={url} does not answer")
        return server
    local = MariaDB("127.0.0.1", 3306, "root", "")
    if _answers(local):
        return local
    return start_own_mariadb()


def _install() -> str:
    binary = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
    if binary:
        return binary
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "mariadb-server"], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin:/usr/bin")


def start_own_mariadb() -> MariaDB:
    binary = _install()
    data = Path(tempfile.mkdtemp(prefix="voltwatch-mariadb-"))
    user = ["--user=root"] if os.geteuid() == 0 else []
    install = ["mariadb-install-db", "--no-defaults", f"--datadir={data}/db"]
    install.append("--auth-root-authentication-method=normal")
    subprocess.run([*install, *user], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    log = open(data / "error.log", "w")  # noqa: SIM115  (the server writes it for its whole life)
    process = subprocess.Popen(
        [binary, "--no-defaults", f"--datadir={data}/db", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={data}/mysqld.sock", f"--pid-file={data}/mysqld.pid", "--skip-log-bin", *user],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip

    def stop():
        process.terminate()
        process.wait(30)
        shutil.rmtree(data, ignore_errors=True)

    atexit.register(stop)
    server = MariaDB("127.0.0.1", port, "root", "")
    deadline = time.monotonic() + 60
    while not _answers(server):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"MariaDB did not start: {(data / 'error.log').read_text()[-2000:]}")
        time.sleep(0.3)
    return server
