"""Every write on users, API keys and the audit log."""

import logging
import secrets
from datetime import timedelta

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.key_cache import REVOKED_KEYS, find_key
from accounts.models import ApiKey, AuditLog, Role, Scope, User, hash_api_key
from core.realtime import api_key_group, close_sockets
from core.redis_client import RedisUnavailable, guarded
from core.tasks import queue_email
from tenants.selectors import current_tenant, tenant_url

logger = logging.getLogger(__name__)
API_KEY_PREFIX = "vw_"
LAST_USED_PRECISION = timedelta(minutes=1)
KEY_REVOKED_CLOSE_CODE = 4401  # websocket close code: the socket's key no longer authenticates


def record_audit(
    *,
    actor: User | None,
    action: str,
    target: object | None = None,
    ip_address: str | None = None,
    **details,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor, details.get("api_key")),
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or ""),
        target_label=str(target)[:255] if target is not None else "",
        ip_address=ip_address,
        details=details,
    )


def _actor_label(actor: User | None, api_key: str | None) -> str:
    """Who the audit page says acted: a person's email, an API key's prefix (the keys page shows it
    beside the key's name), or "system" for the platform's own work."""
    if getattr(actor, "email", ""):
        return str(actor.email)
    if api_key:
        return f"API key {api_key}"
    return "system"


# Values the audit log shows as changed without showing them.
SECRET_FIELDS = frozenset({"webhook_secret", "password"})
LONG_TEXT = 200  # a longer text (a DBC file) is recorded by its length, not copied into the log


def audit_actor(by) -> dict:
    """record_audit's actor for a person, or None and the key's prefix when an API key acts."""
    key = getattr(by, "key", None)
    if key is not None:
        return {"actor": None, "api_key": key.prefix}
    return {"actor": by if getattr(by, "pk", None) else None}


def person_of(by) -> User | None:
    """The person behind `by`, or None when an API key (or nobody) acts: who a record names as its
    author, or as the one who acknowledged it."""
    return None if by is None or getattr(by, "key", None) is not None else by


def audit_value(field: str, value):
    """A field's value as the audit log records it (secrets masked, long texts by their length)."""
    if field in SECRET_FIELDS:
        return "•••" if value else ""
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return f"({len(value):,} characters)"
    return value


def field_changes(before, after) -> dict[str, list]:
    """{field: [old, new]} for each concrete field that differs between two copies of one row."""
    changes = {}
    for field in after._meta.concrete_fields:
        if field.primary_key:
            continue
        old, new = getattr(before, field.attname), getattr(after, field.attname)
        if old != new:
            changes[field.attname] = [audit_value(field.attname, old), audit_value(field.attname, new)]
    return changes


def record_saved(*, entity: str, instance, before, by, ip_address: str | None = None) -> None:
    """Audit a row just saved: `entity.created` with its fields, or `entity.changed` with what
    changed since `before` (nothing recorded when nothing changed)."""
    if before is None:
        fields = {
            field.attname: audit_value(field.attname, getattr(instance, field.attname))
            for field in instance._meta.concrete_fields
            if not field.primary_key
        }
        record_audit(
            **audit_actor(by), action=f"{entity}.created", target=instance, ip_address=ip_address, fields=fields
        )
    elif changes := field_changes(before, instance):
        record_audit(
            **audit_actor(by), action=f"{entity}.changed", target=instance, ip_address=ip_address, changes=changes
        )


def record_deleted(*, entity: str, instance, by, ip_address: str | None = None) -> None:
    record_audit(**audit_actor(by), action=f"{entity}.deleted", target=instance, ip_address=ip_address)


def audited_delete(*, entity: str, instance, by, ip_address: str | None = None, delete=None) -> None:
    """Delete `instance` (or run `delete()`, when deleting takes more than the row) and log who did,
    in one transaction: a row its dependents still protect stays, and so does the log without a
    deletion that did not happen."""
    with transaction.atomic():
        record_deleted(entity=entity, instance=instance, by=by, ip_address=ip_address)
        (delete or instance.delete)()


def password_setup_url(user: User) -> str:
    """A one-time link where the user chooses a password (invitation and reset share it)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    tenant = current_tenant()
    return tenant_url(tenant, path) if tenant else path


def _check_user_limit() -> None:
    tenant = current_tenant()
    if tenant and tenant.max_users is not None and User.objects.filter(is_active=True).count() >= tenant.max_users:
        raise ValidationError(
            _("Your plan allows %(limit)s active users; deactivate one or ask us for more.")
            % {"limit": tenant.max_users}
        )


def invite_user(
    *, email: str, role: str, full_name: str = "", invited_by: User | None = None, ip_address: str | None = None
) -> User:
    """Create a tenant user without a password and email them a link to choose one."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %s.") % ", ".join(Role.values)})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    _check_user_limit()
    with transaction.atomic():
        user = User.objects.create_user(
            email, None, role=role, full_name=full_name, invited_by=invited_by, is_staff=role == Role.ADMIN
        )
        record_audit(actor=invited_by, action="user.invited", target=user, ip_address=ip_address, role=role)
        send_invitation(user, invited_by=invited_by)
    return user


def send_invitation(user: User, *, invited_by: User | None = None) -> None:
    tenant = current_tenant()
    language = user.language or (tenant.language if tenant else "en")
    with translation.override(language):
        context = {
            "user": user,
            "tenant_name": tenant.name if tenant else "Voltwatch",
            "inviter": invited_by,
            "setup_url": password_setup_url(user),
            "login_url": tenant_url(tenant, reverse("login")) if tenant else "",
        }
        subject = _("You are invited to %(tenant)s on Voltwatch") % {"tenant": context["tenant_name"]}
        body = render_to_string("accounts/email/invitation.txt", context)
    transaction.on_commit(lambda: queue_email(subject=subject, body=body, to=[user.email]))


def change_role(*, user: User, role: str, by: User, ip_address: str | None = None) -> User:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %s.") % ", ".join(Role.values)})
    if user == by and role != Role.ADMIN:
        raise ValidationError({"role": _("You cannot remove your own admin role.")})
    previous = user.role
    user.role = role
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff"])
    record_audit(actor=by, action="user.role_changed", target=user, ip_address=ip_address, previous=previous, role=role)
    return user


def set_user_active(*, user: User, active: bool, by: User, ip_address: str | None = None) -> User:
    if user == by and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    if active and not user.is_active:
        _check_user_limit()
    user.is_active = active
    user.save(update_fields=["is_active"])
    record_audit(
        actor=by, action="user.activated" if active else "user.deactivated", target=user, ip_address=ip_address
    )
    return user


def create_api_key(
    *,
    name: str,
    scopes: list[str],
    created_by: User | None = None,
    token: str | None = None,
    ip_address: str | None = None,
    bound_to: str = "",
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret token, which is never stored and never shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name that says who uses it.")})
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValidationError({"scopes": _("Choose one or more of: %s.") % ", ".join(Scope.values)})
    token = token or API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        prefix=token[: len(API_KEY_PREFIX) + 8],
        key_hash=hash_api_key(token),
        scopes=sorted(set(scopes)),
        created_by=created_by,
        bound_to=bound_to,
    )
    record_audit(actor=created_by, action="api_key.created", target=key, ip_address=ip_address, scopes=key.scopes)
    return key, token


def revoke_api_key(*, key: ApiKey, by: User | None, ip_address: str | None = None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = by
        key.save(update_fields=["revoked_at", "revoked_by"])
        record_audit(actor=by, action="api_key.revoked", target=key, ip_address=ip_address)
        _announce_revocation(key.key_hash)
        _close_sockets_of_key(key)
    return key


def _announce_revocation(key_hash: str) -> None:
    """Tell the processes that remember keys. The revocation is in the database already, which every
    path trusts while Redis is down; `publish_revocations` repeats this once Redis is back."""
    try:
        guarded(lambda client: client.sadd(REVOKED_KEYS, key_hash))
    except RedisUnavailable:
        logger.warning("Redis unreachable: the revocation of a key reaches it with the next publish_revocations")


def publish_revocations() -> int:
    """Put every revoked key of the current tenant in Redis's set of revoked keys (again): those
    revoked while Redis was down, or lost with its data. Returns how many were published."""
    hashes = list(ApiKey.objects.filter(revoked_at__isnull=False).values_list("key_hash", flat=True).order_by())
    if hashes:
        guarded(lambda client: client.sadd(REVOKED_KEYS, *hashes))
    return len(hashes)


def _close_sockets_of_key(key: ApiKey) -> None:
    """A device's open websocket authenticated once, at its handshake: it is closed when its key goes."""
    group = api_key_group(connection.schema_name, key.pk)
    transaction.on_commit(lambda: close_sockets(group, code=KEY_REVOKED_CLOSE_CODE))


def key_hash_of(token: str | None) -> str | None:
    """The hash to look `token` up by, or None when it cannot be one of our keys (and nothing need
    be looked up)."""
    if not token or not token.startswith(API_KEY_PREFIX) or len(token) > 128:
        return None
    return hash_api_key(token)


def authenticate_api_key(token: str) -> ApiKey | None:
    """The active key of the current tenant matching `token`, or None. Notes when it was last used."""
    key_hash = key_hash_of(token)
    if key_hash is None:
        return None
    key = find_key(key_hash)
    if key is None:
        return None
    now = timezone.now()
    # Writing on every request would turn each API call into a write; a minute's precision is enough.
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # no signal: the remembered key stays
        key.last_used_at = now
    return key
