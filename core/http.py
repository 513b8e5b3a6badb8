"""Facts about the request that every app records the same way."""


def client_ip(request) -> str | None:
    """The address the audit log records (behind the proxy, uvicorn's --forwarded-allow-ips sets it)."""
    return request.META.get("REMOTE_ADDR")
