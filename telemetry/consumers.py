"""`/ws/shelly/<key>/`: the outbound websocket of Shelly Gen2 devices.

A Shelly configured with "Outbound websocket" connects here and sends JSON-RPC notifications
(NotifyFullStatus, NotifyStatus, NotifyEvent). The key is in the URL because devices cannot set
headers; it must have the `ingest` scope and is looked up in the host tenant's schema only.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.services import authenticate_api_key
from core.decoding import BadInput, decode_json
from core.websocket import in_tenant
from telemetry import services
from telemetry.validation import Invalid


class ShellyDeviceConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.tenant = self.scope.get("tenant")
        token = self.scope["url_route"]["kwargs"]["key"]
        key = await in_tenant(self.tenant, authenticate_api_key, token) if self.tenant else None
        if key is None or "ingest" not in key.scopes:
            await self.close(code=4401)
            return
        self.bound_to = key.bound_to
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = decode_json(text_data if text_data is not None else bytes_data)
        except BadInput as exc:
            await self.send(json.dumps({"error": {"code": 400, "message": f"{exc.field}: {exc.reason}"}}))
            return
        try:
            stored = await in_tenant(self.tenant, services.receive_shelly, frame, bound_to=self.bound_to)
        except Invalid as exc:
            reply = {"error": {"code": 400, "message": "; ".join(f"{k}: {v}" for k, v in exc.fields.items())}}
        else:
            reply = {"result": {"stored": stored.stored, "duplicates": stored.duplicates}}
        # Notifications carry no id and expect no answer; requests (with an id) get one.
        if isinstance(frame, dict) and "id" in frame:
            await self.send(json.dumps({"id": frame["id"], **reply}))
        elif "error" in reply:
            await self.send(json.dumps(reply))
