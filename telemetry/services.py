"""Writes on the asset hierarchy: types with custom fields, batteries, meters."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from telemetry.models import AssetType

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
