"""Which devices a key may report for: the one rule, for the Django views and the heartbeat fast path.

A device's own key (`fleet.services.issue_device_key`) is bound to it and speaks for that device
only, so a stolen device cannot report as its neighbours; a tenant's ingest key is bound to nothing
and speaks for every device, registering those it has not seen yet.
"""

DEVICE_KEY_PREFIX = "fleet.device:"


def device_binding(device_pk: int) -> str:
    """What `ApiKey.bound_to` says for a key of this device."""
    return f"{DEVICE_KEY_PREFIX}{device_pk}"


def may_report_for(bound_to: str, device_pk: int | None) -> bool:
    """Whether a key bound to `bound_to` ("" for none) may report for the device `device_pk`
    (None: a device not registered yet, which only a key bound to nothing may register)."""
    return not bound_to or (device_pk is not None and bound_to == device_binding(device_pk))
