from django.urls import path

from core.consumers import NotificationConsumer
from telemetry.consumers import ShellyDeviceConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/shelly/<str:key>/", ShellyDeviceConsumer.as_asgi()),
]
