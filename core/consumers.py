import asyncio
import contextlib

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from core.realtime import tenant_group, user_group


class GroupMembership:
    """A socket's place in its channel-layer groups, renewed while it is open.

    The layer forgets a member `group_expiry` seconds after it joined (channels_redis' sorted set,
    by join time): a socket whose server died without leaving (killed, crashed) stops counting as
    a listener, and stops costing every send, within that time instead of a day. An open socket
    joins again every third of it, so a quiet page keeps its place.
    """

    groups_joined: tuple[str, ...] = ()
    _renewal: asyncio.Task | None = None

    async def join_groups(self, *groups: str) -> None:
        self.groups_joined = groups
        await self._add_to_groups()
        expiry = getattr(self.channel_layer, "group_expiry", None)
        if expiry:
            self._renewal = asyncio.create_task(self._renew_every(expiry / 3))

    async def leave_groups(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewal
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _add_to_groups(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _renew_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            with contextlib.suppress(Exception):  # Redis away: the next renewal joins again
                await self._add_to_groups()

    async def disconnect(self, code):
        await self.leave_groups()


class TenantSocketConsumer(GroupMembership, AsyncWebsocketConsumer):
    """A websocket of one tenant (text frames) that joins groups for its life."""


class NotificationConsumer(GroupMembership, AsyncJsonWebsocketConsumer):
    """`/ws/notifications/`: every event sent with `notify_tenant` to this page's tenant."""

    async def connect(self):
        user, tenant = self.scope.get("user"), self.scope.get("tenant")
        if tenant is None or user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.join_groups(tenant_group(tenant.schema_name), user_group(tenant.schema_name, user.pk))
        await self.accept()
        await self.send_json({"type": "hello", "payload": {"tenant": tenant.schema_name, "user": user.email}})

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def tenant_event(self, event):
        await self.send_json({"type": event["event_type"], "payload": event["payload"], "sent_at": event["sent_at"]})
