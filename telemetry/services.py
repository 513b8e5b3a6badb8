"""Writes on the asset hierarchy (types with custom fields, batteries, meters) and readings ingestion."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from telemetry import ingest, validation
from telemetry.metrics import METRICS
from telemetry.models import AssetType
from telemetry.selectors import asset_model, asset_ref
from telemetry.validation import MAX_ERRORS, Invalid, clean_time, clean_values

FIELD_KINDS = {"text", "number", "boolean", "date", "choice"}


def validate_custom_fields(definitions) -> list[dict]:
    """The definitions a type declares, checked: names unique, kinds known, choices given."""
    if not isinstance(definitions, list):
        raise ValidationError({"custom_fields": _("Give a list of field definitions.")})
    seen, cleaned = set(), []
    for index, field in enumerate(definitions):
        where = f"custom_fields[{index}]"
        if not isinstance(field, dict) or not str(field.get("name", "")).strip():
            raise ValidationError({where: _("Each field needs a name.")})
        name = str(field["name"]).strip()
        if name in seen:
            raise ValidationError({where: _("The name “%(name)s” is used twice.") % {"name": name}})
        kind = field.get("kind", "text")
        if kind not in FIELD_KINDS:
            raise ValidationError({where: _("Kind must be one of: %s.") % ", ".join(sorted(FIELD_KINDS))})
        choices = field.get("choices") or []
        if kind == "choice" and (not isinstance(choices, list) or not choices):
            raise ValidationError({where: _("A choice field needs its choices.")})
        seen.add(name)
        cleaned.append(
            {
                "name": name,
                "label": str(field.get("label") or name),
                "kind": kind,
                "unit": str(field.get("unit") or ""),
                "required": bool(field.get("required")),
                "choices": [str(choice) for choice in choices],
            }
        )
    return cleaned


def _coerce(field: dict, value):
    kind = field["kind"]
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError
    if kind == "date":
        return date.fromisoformat(str(value)).isoformat()
    if kind == "choice":
        if str(value) not in field["choices"]:
            raise ValueError
        return str(value)
    return str(value)


def validate_custom_values(asset_type: AssetType, values) -> dict:
    """The values an asset carries for its type's custom fields, checked and normalised."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_values": _("Give an object of field name → value.")})
    fields = {field["name"]: field for field in asset_type.custom_fields}
    errors, cleaned = {}, {}
    for name in values:
        if name not in fields:
            errors[f"custom_values.{name}"] = _("“%(type)s” has no field “%(name)s”.") % {
                "type": asset_type.name,
                "name": name,
            }
    for name, field in fields.items():
        value = values.get(name)
        if value in (None, ""):
            if field["required"]:
                errors[f"custom_values.{name}"] = _("Required by the type “%(type)s”.") % {"type": asset_type.name}
            continue
        try:
            cleaned[name] = _coerce(field, value)
        except (TypeError, ValueError):
            expected = {
                "number": _("a number"),
                "boolean": _("true or false"),
                "date": _("a date (YYYY-MM-DD)"),
                "choice": _("one of: %s") % ", ".join(field["choices"]),
                "text": _("text"),
            }[field["kind"]]
            errors[f"custom_values.{name}"] = _("Expected %(expected)s.") % {"expected": expected}
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- Ingestion --------------------------------------------------------------------------------------


def bound_asset(bound_to: str, kind: str) -> int | None:
    """The asset a key is bound to (`battery:12`), or None for a tenant-wide ingest key."""
    bound_kind, _sep, asset_id = bound_to.partition(":")
    if not bound_to:
        return None
    if bound_kind != kind or not asset_id.isdigit():
        return -1  # bound to something else: matches no asset of this kind
    return int(asset_id)


def resolve_assets(kind: str, refs, *, bound_to: str = "") -> dict:
    """Map asset references (ids as integers, serials or device ids as text) to assets, in one query."""
    model = asset_model(kind)
    ids = {ref for ref in refs if type(ref) is int}
    names = {ref for ref in refs if type(ref) is str}
    ref_field = "serial" if kind == "battery" else "device_id"
    query = Q(pk__in=ids) | Q(**{f"{ref_field}__in": names})
    only = bound_asset(bound_to, kind)
    if only is not None:
        query &= Q(pk=only)
    found = {}
    for asset in model.objects.filter(query).only("pk", ref_field, "name"):
        found[asset.pk] = asset
        found[getattr(asset, ref_field)] = asset
    return found


def ingest_readings(*, kind: str, items, bound_to: str = "") -> ingest.Stored:
    """Validate a batch of generic readings (`{"asset", "time", "values"}` each) and store it,
    all or nothing. Raises `Invalid` naming every bad field."""
    if kind not in METRICS:
        raise Invalid({"kind": f"Expected one of: {', '.join(METRICS)}."})
    if type(items) is not list or not items:
        raise Invalid({"readings": "Give a non-empty list of readings."})
    if len(items) > settings.TELEMETRY_MAX_BATCH:
        raise Invalid({"readings": f"At most {settings.TELEMETRY_MAX_BATCH} readings per request; got {len(items)}."})
    errors: dict[str, str] = {}
    refs = set()
    for index, item in enumerate(items):
        if type(item) is not dict:
            errors[f"readings[{index}]"] = "Expected an object with asset, time and values."
            continue
        ref = item.get("asset")
        if type(ref) is int or (type(ref) is str and ref):
            refs.add(ref)
        else:
            errors[f"readings[{index}].asset"] = "Give the asset's id (a number) or its serial / device id (text)."
        if len(errors) >= MAX_ERRORS:
            raise Invalid(errors)
    assets = resolve_assets(kind, refs, bound_to=bound_to)
    labels = {}
    readings = []
    moment = validation.now()
    for index, item in enumerate(items):
        if len(errors) >= MAX_ERRORS:
            break
        if type(item) is not dict:
            continue
        where = f"readings[{index}]"
        asset = assets.get(item.get("asset"))
        if asset is None:
            if f"{where}.asset" not in errors:
                errors[f"{where}.asset"] = f"No {kind} “{item.get('asset')}” here" + (
                    " that this key may report for." if bound_to else "."
                )
            continue
        time = clean_time(item.get("time", item.get("timestamp")), f"{where}.time", errors, moment)
        values = clean_values(kind, item.get("values"), f"{where}.values", errors)
        if time is not None and values is not None:
            readings.append(ingest.Reading(asset.pk, time, values))
            labels[asset.pk] = asset_ref(kind, asset)
    if errors:
        raise Invalid(errors)
    return ingest.store_readings(kind, readings, labels=labels)
