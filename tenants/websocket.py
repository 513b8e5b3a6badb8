"""Websocket side of tenancy: the host picks the tenant, the session cookie picks the user."""

from http.cookies import SimpleCookie
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string
from django_tenants.utils import remove_www, tenant_context

from tenants.host_cache import tenant_for_host


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _resolve_tenant(hostname: str):
    """The tenant of `hostname` through the same per-process cache as HTTP requests; None for an
    unknown host, the public site, or a suspended tenant."""
    tenant = tenant_for_host(hostname)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or not tenant.is_active:
        return None
    return tenant


class _SessionRequest:
    def __init__(self, session):
        self.session = session


def _load_user(tenant, session_key: str):
    if not session_key:
        return AnonymousUser()
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    with tenant_context(tenant):
        return get_user(_SessionRequest(store(session_key)))


async def _deny(receive, send, code: int) -> None:
    message = await receive()
    if message.get("type") == "websocket.connect":
        await send({"type": "websocket.close", "code": code})


class TenantWebsocketMiddleware:
    """Resolves the tenant from the Host header and the user from that tenant's sessions.

    Cross-origin handshakes are refused (a page on another host cannot borrow the cookie), and so
    are unknown or suspended tenants.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        hostname = remove_www(_header(scope, b"host").split(":")[0].lower())
        origin = _header(scope, b"origin")
        if origin and (urlparse(origin).hostname or "").lower() != hostname:
            return await _deny(receive, send, 4403)
        tenant = await database_sync_to_async(_resolve_tenant)(hostname)
        if tenant is None:
            return await _deny(receive, send, 4404)
        cookies = SimpleCookie()
        cookies.load(_header(scope, b"cookie"))
        morsel = cookies.get(settings.SESSION_COOKIE_NAME)
        user = await database_sync_to_async(_load_user)(tenant, morsel.value if morsel else "")
        return await self.inner(dict(scope, tenant=tenant, user=user), receive, send)


def in_tenant(tenant, func, *args, **kwargs):
    """Run `func` in `tenant`'s schema from a consumer: `await in_tenant(tenant, fn, ...)`."""

    def run():
        with tenant_context(tenant):
            return func(*args, **kwargs)

    return database_sync_to_async(run)()
