"""`/ws/shelly/<key>/`: the outbound websocket of Shelly Gen2 devices.

A Shelly configured with "Outbound websocket" connects here and sends JSON-RPC notifications
(NotifyFullStatus, NotifyStatus, NotifyEvent). The key is in the URL because devices cannot set
headers; it must have the `ingest` scope and is looked up in the host tenant's schema only.
"""

import json

from accounts.services import KEY_REVOKED_CLOSE_CODE, authenticate_api_key
from core.consumers import TenantSocketConsumer
from core.decoding import BadInput, decode_json
from core.realtime import api_key_group
from telemetry import services
from telemetry.ingest import Invalid
from tenants.websocket import in_tenant


def _ingest_key(token: str):
    key = authenticate_api_key(token)
    return key if key is not None and "ingest" in key.scopes else None


def _receive_if_key_holds(token: str, frame):
    """The frame stored, or None when the socket's key was revoked (or deleted) since the handshake:
    the close sent on revocation may be lost (channel layer down), this check is not."""
    key = _ingest_key(token)
    return services.receive_shelly(frame, bound_to=key.bound_to) if key is not None else None


class ShellyDeviceConsumer(TenantSocketConsumer):
    async def connect(self):
        self.tenant = self.scope.get("tenant")
        self.token = self.scope["url_route"]["kwargs"]["key"]
        key = await in_tenant(self.tenant, _ingest_key, self.token) if self.tenant else None
        if key is None:
            await self.close(code=KEY_REVOKED_CLOSE_CODE)
            return
        # Revoking the key closes this socket (accounts.services.revoke_api_key).
        await self.join_groups(api_key_group(self.tenant.schema_name, key.pk))
        await self.accept()

    async def socket_close(self, event):
        await self.close(code=event["code"])

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = decode_json(text_data if text_data is not None else bytes_data)
        except BadInput as exc:
            await self.send(json.dumps({"error": {"code": 400, "message": f"{exc.field}: {exc.reason}"}}))
            return
        try:
            stored = await in_tenant(self.tenant, _receive_if_key_holds, self.token, frame)
            if stored is None:
                await self.close(code=KEY_REVOKED_CLOSE_CODE)
                return
        except Invalid as exc:
            reply = {"error": {"code": 400, "message": "; ".join(f"{k}: {v}" for k, v in exc.fields.items())}}
        else:
            reply = {"result": {"stored": stored.stored, "duplicates": stored.duplicates}}
            if stored.conflicts:  # same time, other values: the stored reading was kept
                reply["result"]["conflicts"] = len(stored.conflicts)
        # Notifications carry no id and expect no answer; requests (with an id) get one.
        if isinstance(frame, dict) and "id" in frame:
            await self.send(json.dumps({"id": frame["id"], **reply}))
        elif "error" in reply:
            await self.send(json.dumps(reply))
