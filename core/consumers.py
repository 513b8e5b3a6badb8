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
    _renewing = False  # a renewal is talking to Redis now
    _leaving = False

    async def join_groups(self, *groups: str) -> None:
        self.groups_joined = groups
        await self._add_to_groups()
        expiry = getattr(self.channel_layer, "group_expiry", None)
        if expiry:
            self._renewal = asyncio.create_task(self._renew_every(expiry / 3))

    async def leave_groups(self) -> None:
        """Stop renewing, then leave. A renewal talking to Redis is let finish rather than cancelled:
        a channels-redis call cancelled midway can leave its connection unusable for the discard
        that follows, and the socket would count as a listener until its place expired."""
        self._leaving = True
        renewal = self._renewal
        if renewal is not None and not renewal.done():
            if self._renewing:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(renewal), timeout=5)
            else:  # asleep between renewals: nothing in flight
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _add_to_groups(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _renew_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            if self._leaving:
                return
            self._renewing = True
            try:
                with contextlib.suppress(Exception):  # Redis away: the next renewal joins again
                    await self._add_to_groups()
            finally:
                self._renewing = False

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
