"""Shared fixtures: two tenants (alpha, beta) with users of every role and API keys, built once per
session and committed, so that real servers started by the suite see them too."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"
ROLES = ("admin", "operator", "viewer")


@dataclass
class TenantWorld:
    """One tenant as the tests see it: its host, its people and its keys."""

    slug: str
    tenant: object
    host: str
    users: dict = field(default_factory=dict)
    blocker: object = None  # pytest-django's database blocker, to commit data servers must see
    api_token: str = ""  # scopes read, write, ingest
    read_token: str = ""  # scope read only

    def http(self, role: str | None = None, **headers) -> HttpClient:
        """A Django test client on this tenant's host, signed in as `role` when given."""
        client = HttpClient(HTTP_HOST=self.host, **headers)
        if role:
            with schema_context(self.slug):
                client.force_login(self.users[role])
            connection.set_schema_to_public()
        return client

    def api(self, token: str | None = None) -> HttpClient:
        return HttpClient(HTTP_HOST=self.host, HTTP_AUTHORIZATION=f"Api-Key {token or self.api_token}")

    def sign_in(self, email: str, password: str) -> HttpClient | None:
        """Sign in through the login page, as a person would; None when the portal refuses."""
        client = HttpClient(HTTP_HOST=self.host)
        response = client.post("/accounts/login/", {"username": email, "password": password})
        return client if response.status_code == 302 else None

    def session_cookie(self, role: str) -> str:
        """A session of `role`'s user in this tenant, as a real browser would hold it.

        Committed (outside any test transaction) so that servers in other processes see it.
        """
        from django.contrib.sessions.backends.db import SessionStore

        user = self.users[role]
        with self.blocker.unblock(), schema_context(self.slug):
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
        connection.set_schema_to_public()
        return session.session_key


def build_world(slug: str, name: str) -> TenantWorld:
    from accounts.models import User
    from accounts.services import create_api_key
    from provisioning.services import create_client

    result = create_client(name=name, slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD)
    world = TenantWorld(slug=slug, tenant=result.client, host=result.domain.domain)
    with schema_context(slug):
        world.users["admin"] = User.objects.get(email=f"admin@{slug}.test")
        for role in ("operator", "viewer"):
            world.users[role] = User.objects.create_user(f"{role}@{slug}.test", PASSWORD, role=role)
        _key, world.api_token = create_api_key(name="integration", scopes=["read", "write", "ingest"])
        _key, world.read_token = create_api_key(name="reader", scopes=["read"])
    connection.set_schema_to_public()
    return world


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """The test database, always: tests against live servers use it without a `db` fixture."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:  # servers the suite started may still hold a connection
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def worlds(django_db_setup, django_db_blocker) -> dict[str, TenantWorld]:
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # throttle counters of an earlier run
    with django_db_blocker.unblock():
        built = {"alpha": build_world("alpha", "Alpha Energy"), "beta": build_world("beta", "Beta Power")}
        for world in built.values():
            world.blocker = django_db_blocker
        from accounts.models import User

        User.objects.create_superuser("staff@platform.test", PASSWORD)
    return built


@pytest.fixture(scope="session")
def listening_world(worlds, django_db_blocker) -> TenantWorld:
    """A tenant whose pages only the listener tests open: whether its groups have listeners is not
    blurred by the sockets other tests (and their servers) leave in alpha's for a while."""
    with django_db_blocker.unblock():
        world = build_world("gamma", "Gamma Grid")
    world.blocker = django_db_blocker
    return world


@pytest.fixture
def alpha(worlds, db) -> TenantWorld:
    return worlds["alpha"]


@pytest.fixture
def beta(worlds, db) -> TenantWorld:
    return worlds["beta"]


@pytest.fixture
def tenant(alpha) -> TenantWorld:
    """alpha, with its schema active for the whole test (services, selectors and ORM reads)."""
    with schema_context(alpha.slug):
        yield alpha


@pytest.fixture
def staff_client(worlds, db) -> HttpClient:
    client = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    client.login(username="staff@platform.test", password=PASSWORD)
    return client


@pytest.fixture
def committed_assets(worlds):
    """Assets of alpha made outside the test transaction, so that a server process sees them;
    deleted afterwards with their readings."""
    from telemetry import services

    alpha = worlds["alpha"]
    made = []

    def make(factory, kind, **fields):
        with alpha.blocker.unblock():
            asset = factory(alpha, **fields)
        made.append((kind, asset))
        return asset

    yield make
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        for kind, asset in made:
            services.delete_asset(kind, type(asset).objects.get(pk=asset.pk))
    connection.set_schema_to_public()


@pytest.fixture
def committed_device(worlds):
    """`make(external_id, site_name)`: a fleet device of alpha, registered and online, made outside
    the test transaction so that a server process sees it; deleted afterwards with its alerts."""
    from alerts.models import Alert
    from fleet.models import Device
    from sites.models import Site

    alpha = worlds["alpha"]
    made = []

    def make(external_id: str, site_name: str):
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            site, _ = Site.objects.get_or_create(code=site_name.lower(), defaults={"name": site_name})
            device, _ = Device.objects.update_or_create(
                external_id=external_id, defaults={"site": site, "status": "ok", "last_seen": None}
            )
        connection.set_schema_to_public()
        made.append(device)
        return device

    yield make
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        for device in made:
            Alert.objects.filter(source_id=device.external_id).delete()
            Device.objects.filter(pk=device.pk).delete()
    connection.set_schema_to_public()


@pytest.fixture
def check_thresholds():
    """`check(world)`: one round of the threshold checker for `world`, in the test's transaction
    (where the readings it stored are): what `manage.py check_thresholds` does once a second."""
    from telemetry.ingest.thresholds import check_unchecked

    def check(world: TenantWorld) -> int:
        with schema_context(world.slug):
            checked = check_unchecked()
        connection.set_schema_to_public()
        return checked

    return check


@pytest.fixture
def threshold_checker(worlds):
    """`manage.py check_thresholds` in its own process on the test database, as the launcher runs
    it: for the readings servers and workers commit."""
    env = dict(os.environ, DATABASE_URL=test_database_url(), REDIS_URL=settings.REDIS_URL, LOG_LEVEL="INFO")
    process = subprocess.Popen([sys.executable, "manage.py", "check_thresholds"], cwd=BASE_DIR, env=env)
    yield process
    process.terminate()
    process.wait(10)


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _default_language_for_each_test():
    """Each test starts in the site's default language: a request served in French (a French
    user's page) leaves French active in this thread for whatever the next test translates."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _hosts_and_keys_resolved_afresh():
    """Each test's tenants and keys as the database has them: rolled-back tests and `.update()`
    calls (which send no signal) would otherwise leave this process's caches a step behind."""
    from accounts.key_cache import forget_all as forget_keys
    from tenants.host_cache import forget_all

    forget_all()
    forget_keys()


def run_async(coroutine):
    """Run a coroutine to completion from a test, whatever event loop this thread already has
    (Playwright's sync API keeps one running)."""
    with ThreadPoolExecutor(1) as runner:
        return runner.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes started by the tests."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@dataclass
class LiveServer:
    port: int

    def url(self, world: TenantWorld | None = None, path: str = "/") -> str:
        host = world.host if world else settings.BASE_DOMAIN
        return f"http://{host}:{self.port}{path}"


def start_uvicorn(host: str = "127.0.0.1", **env_overrides: str) -> tuple[subprocess.Popen, int]:
    """The real ASGI application under uvicorn, on the test database, in its own process
    (`env_overrides`: settings of its own, e.g. another DATABASE_URL or REDIS_URL)."""
    port = free_port()
    # The server runs as in production: live pushes off the request thread, from a pusher started with it.
    env = dict(
        os.environ,
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        SITE_PORT=str(port),
    )
    env.update(env_overrides)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "3",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env)
    try:
        wait_for_port(port, process, host=host)
    except Exception:
        process.kill()
        raise
    return process, port


@pytest.fixture(scope="session")
def asgi_server(worlds) -> LiveServer:
    process, port = start_uvicorn()
    try:
        yield LiveServer(port)
    finally:
        process.terminate()
        process.wait(10)
