from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.realtime import tenant_group, user_group


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/notifications/`: every event sent with `notify_tenant` to this page's tenant."""

    async def connect(self):
        user, tenant = self.scope.get("user"), self.scope.get("tenant")
        if tenant is None or user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [tenant_group(tenant.schema_name), user_group(tenant.schema_name, user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "payload": {"tenant": tenant.schema_name, "user": user.email}})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def tenant_event(self, event):
        await self.send_json({"type": event["event_type"], "payload": event["payload"], "sent_at": event["sent_at"]})
