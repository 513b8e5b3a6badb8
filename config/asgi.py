"""HTTP and websockets in one ASGI application."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up first)

from config.routing import websocket_urlpatterns  # noqa: E402
from core.websocket import TenantWebsocketMiddleware  # noqa: E402
from fleet.heartbeats import HeartbeatFastPath  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": HeartbeatFastPath(django_asgi_app),
        "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
