"""Writes to the alert engine's configuration — rules, notification channels, silences — each one
recorded in the tenant's audit log: who (a person, or an API key), what, and which fields changed.
The portal's forms and the API validate; these store."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_actor as _actor
from accounts.services import audit_value as _shown
from accounts.services import audited_delete, person_of, record_audit
from alerts.models import AlertRule, Channel, Silence


def _apply(instance, fields: dict) -> dict[str, list]:
    """Set `fields` on `instance`; the changes as {field: [old, new]} (secrets masked)."""
    changes = {}
    for field, value in fields.items():
        old = getattr(instance, field)
        if old != value:
            changes[field] = [_shown(field, old), _shown(field, value)]
            setattr(instance, field, value)
    return changes


def _created(instance, fields: dict) -> dict:
    return {field: _shown(field, value) for field, value in fields.items()}


def _create(entity: str, model, by, ip_address: str | None, fields: dict):
    instance = model.objects.create(**fields)
    record_audit(
        **_actor(by),
        action=f"{entity}.created",
        target=instance,
        ip_address=ip_address,
        fields=_created(instance, fields),
    )
    return instance


def _update(entity: str, instance, by, ip_address: str | None, fields: dict):
    changes = _apply(instance, fields)
    if changes:
        instance.save(update_fields=list(changes))
        record_audit(**_actor(by), action=f"{entity}.changed", target=instance, ip_address=ip_address, changes=changes)
    return instance


def _delete(entity: str, instance, by, ip_address: str | None) -> None:
    audited_delete(entity=entity, instance=instance, by=by, ip_address=ip_address)


def rule_create(*, by, ip_address: str | None = None, **fields) -> AlertRule:
    return _create("alert_rule", AlertRule, by, ip_address, fields)


def rule_update(*, rule: AlertRule, by, ip_address: str | None = None, **fields) -> AlertRule:
    return _update("alert_rule", rule, by, ip_address, fields)


def rule_delete(*, rule: AlertRule, by, ip_address: str | None = None) -> None:
    _delete("alert_rule", rule, by, ip_address)


def channel_create(*, by, ip_address: str | None = None, **fields) -> Channel:
    return _create("channel", Channel, by, ip_address, fields)


def channel_update(*, channel: Channel, by, ip_address: str | None = None, **fields) -> Channel:
    """An empty `webhook_secret` keeps the current one (the forms never show it back)."""
    if not fields.get("webhook_secret"):
        fields.pop("webhook_secret", None)
    return _update("channel", channel, by, ip_address, fields)


def channel_delete(*, channel: Channel, by, ip_address: str | None = None) -> None:
    _delete("channel", channel, by, ip_address)


def validate_silence(*, starts_at: datetime, ends_at: datetime, comment: str) -> None:
    """What any silence must be: a window that ends after it starts, with a reason."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must come after the start.")})
    if not comment.strip():
        raise ValidationError({"comment": _("Say why (e.g. “battery swap at Cesson”).")})


def silence_create(
    *,
    by,
    starts_at: datetime,
    ends_at: datetime,
    comment: str,
    site_id: str = "",
    source_id: str = "",
    alert_type: str = "",
    ip_address: str | None = None,
) -> Silence:
    """A maintenance window; its author is the person who made it (none when an API key did)."""
    validate_silence(starts_at=starts_at, ends_at=ends_at, comment=comment)
    fields = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "comment": comment.strip(),
        "site_id": site_id,
        "source_id": source_id,
        "alert_type": alert_type,
    }
    silence = Silence.objects.create(author=person_of(by), **fields)
    record_audit(
        **_actor(by), action="silence.created", target=silence, ip_address=ip_address, fields=_created(silence, fields)
    )
    return silence


def silence_update(*, silence: Silence, by, ip_address: str | None = None, **fields) -> Silence:
    """A window changed (the company's admin site edits them; the portal and the API end them)."""
    validate_silence(
        starts_at=fields.get("starts_at", silence.starts_at),
        ends_at=fields.get("ends_at", silence.ends_at),
        comment=fields.get("comment", silence.comment),
    )
    return _update("silence", silence, by, ip_address, fields)


def silence_end(*, silence: Silence, by, ip_address: str | None = None) -> Silence:
    """End the window now (one that has not started yet ends before it begins)."""
    now = timezone.now()
    if silence.ends_at > now:
        silence.ends_at = max(now, silence.starts_at)
        silence.save(update_fields=["ends_at"])
    record_audit(**_actor(by), action="silence.ended", target=silence, ip_address=ip_address)
    return silence


def silence_delete(*, silence: Silence, by, ip_address: str | None = None) -> None:
    _delete("silence", silence, by, ip_address)
