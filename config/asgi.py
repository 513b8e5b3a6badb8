"""HTTP and websockets in one ASGI application."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from core.asgi_handler import SyncChainASGIHandler  # noqa: E402  (needs Django set up first)

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up first)

from config.routing import websocket_urlpatterns  # noqa: E402
from fleet.heartbeats import HeartbeatFastPath  # noqa: E402
from telemetry.ingest import start_live_pusher  # noqa: E402
from tenants.websocket import TenantWebsocketMiddleware  # noqa: E402


def load_url_modules() -> None:
    """Import every URLconf, and through them every view, while the worker starts: Django loads them
    at the first request, which took seconds on a busy machine, and the first requests each new
    worker accepted waited for it (they made the tail of the live-update latency)."""
    from django.conf import settings
    from django.urls import get_resolver

    for urlconf in {settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", settings.ROOT_URLCONF)}:
        get_resolver(urlconf).url_patterns  # noqa: B018  (the property imports the modules)


load_url_modules()
start_live_pusher()  # with the process, not with the first readings it stores
# Everything loaded so far lives as long as the process: keep the garbage collector from scanning it
# again and again (pauses that showed as latency spikes under load).
gc.freeze()
# Ingesting a batch allocates hundreds of thousands of short-lived objects; the default threshold
# (700) ran the cyclic collector dozens of times per request, a quarter of the ingest CPU. Nearly all
# of them are freed by reference counting anyway, so collect far less often — and full collections,
# the long pauses, rarer still (they showed in the live-update latency tail).
gc.set_threshold(*(int(n) for n in os.environ.get("GC_THRESHOLDS", "50000,20,100").split(",")))

application = ProtocolTypeRouter(
    {
        "http": HeartbeatFastPath(django_asgi_app),
        "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
