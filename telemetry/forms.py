"""Portal forms for the asset hierarchy: the type's custom fields become real form fields."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from telemetry import services
from telemetry.adapters import AdapterError
from telemetry.adapters.foxbms import dbc_text, load_dbc
from telemetry.models import AssetType, Battery, Meter

CUSTOM_PREFIX = "custom_"
THRESHOLD_PREFIX = "threshold_"
THRESHOLD_LABELS = {
    "cell_overvoltage": _("Cell over-voltage above (V)"),
    "cell_undervoltage": _("Cell under-voltage below (V)"),
    "temperature": _("Temperature above (°C)"),
    "soc_low": _("State of charge below (%)"),
}


def _custom_field(definition: dict) -> forms.Field:
    label = definition["label"] + (f" ({definition['unit']})" if definition.get("unit") else "")
    common = {"label": label, "required": definition.get("required", False)}
    kind = definition["kind"]
    if kind == "number":
        return forms.FloatField(**common)
    if kind == "boolean":
        return forms.NullBooleanField(**{**common, "required": False})
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in definition["choices"]], **common)
    return forms.CharField(max_length=255, **common)


class CustomValuesForm(forms.ModelForm):
    """Adds one field per custom field of the asset's type, validated by the telemetry service.

    The type is the instance's (chosen before the form opens) and is not edited here: another type
    means other fields, so the page reloads the form for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asset_type = self.instance.type if self.instance.type_id else None
        self.fields["type"].disabled = True
        self.fields["type"].required = False
        values = self.instance.custom_values or {}
        for definition in self.asset_type.custom_fields if self.asset_type else []:
            name = CUSTOM_PREFIX + definition["name"]
            self.fields[name] = _custom_field(definition)
            self.initial.setdefault(name, values.get(definition["name"]))

    def clean(self):
        cleaned = super().clean()
        if self.asset_type is None:
            self.instance.custom_values = {}
            return cleaned
        raw = {}
        for definition in self.asset_type.custom_fields:
            value = cleaned.get(CUSTOM_PREFIX + definition["name"])
            raw[definition["name"]] = value.isoformat() if hasattr(value, "isoformat") else value
        try:
            self.instance.custom_values = services.validate_custom_values(self.asset_type, raw)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                field = CUSTOM_PREFIX + key.removeprefix("custom_values.")
                if field in self.fields and field not in self.errors:
                    self.add_error(field, errors)
                elif field not in self.fields:
                    self.add_error(None, errors)
        return cleaned


THRESHOLD_BOUNDS = {
    "cell_overvoltage": (0, 10),
    "cell_undervoltage": (0, 10),
    "temperature": (-100, 250),
    "soc_low": (0, 100),
}


class BatteryForm(CustomValuesForm):
    class Meta:
        model = Battery
        fields = [
            "name", "serial", "site", "type", "chemistry", "nominal_voltage", "capacity_ah", "capacity_kwh",
            "cell_count", "connector", "silent_after_minutes",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = services.asset_thresholds("battery", self.instance) if self.instance.pk else {}
        for alert_type, label in THRESHOLD_LABELS.items():
            name = THRESHOLD_PREFIX + alert_type
            low, high = THRESHOLD_BOUNDS[alert_type]
            self.fields[name] = forms.FloatField(
                label=label,
                required=False,
                min_value=low,
                max_value=high,
                help_text=_("Empty: the tenant's alert rule applies."),
            )
            self.initial.setdefault(name, own.get(alert_type))

    def clean_type(self):
        if self.asset_type is None:
            raise ValidationError(_("Choose the battery's type first."))
        return self.asset_type

    def clean(self):
        cleaned = super().clean()
        over = cleaned.get(THRESHOLD_PREFIX + "cell_overvoltage")
        under = cleaned.get(THRESHOLD_PREFIX + "cell_undervoltage")
        if over is not None and under is not None and under >= over:
            self.add_error(
                THRESHOLD_PREFIX + "cell_undervoltage", _("The under-voltage must be below the over-voltage.")
            )
        return cleaned

    def thresholds(self) -> dict[str, float | None]:
        return {alert_type: self.cleaned_data.get(THRESHOLD_PREFIX + alert_type) for alert_type in THRESHOLD_LABELS}


class MeterForm(CustomValuesForm):
    class Meta:
        model = Meter
        fields = ["name", "device_id", "site", "type", "model", "power_alert_threshold", "silent_after_minutes"]


class AssetTypeForm(forms.ModelForm):
    custom_fields = forms.CharField(
        label=_("Custom fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            'A JSON list, e.g. [{"name": "warranty_until", "label": "Warranty until", "kind": "date", '
            '"required": true}]. Kinds: text, number, boolean, date, choice (with "choices").'
        ),
    )

    can_database_file = forms.FileField(
        label=_("DBC file"),
        required=False,
        help_text=_("Or upload the .dbc file of your foxBMS build (tools/dbc/foxbms.dbc): it replaces the text above."),
    )

    class Meta:
        model = AssetType
        fields = ["name", "kind", "description", "custom_fields", "can_database", "can_database_file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["custom_fields"] = json.dumps(self.instance.custom_fields or [], ensure_ascii=False, indent=1)
        if self.instance.pk and (self.instance.batteries.exists() or self.instance.meters.exists()):
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("Assets use this type: its kind cannot change.")

    def clean_custom_fields(self):
        text = self.cleaned_data.get("custom_fields") or "[]"
        try:
            definitions = json.loads(text)
        except ValueError as exc:
            raise ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from None
        try:
            return services.validate_custom_fields(definitions)
        except ValidationError as exc:
            raise ValidationError([f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]) from None

    def clean_can_database(self):
        text = self.cleaned_data.get("can_database") or ""
        if text.strip():
            try:
                load_dbc(text)
            except AdapterError as exc:
                raise ValidationError(exc.reason) from None
        return text

    def clean_can_database_file(self):
        upload = self.cleaned_data.get("can_database_file")
        if not upload:
            return None

        try:
            return dbc_text(upload.read())
        except AdapterError as exc:
            raise ValidationError(exc.reason) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("can_database_file"):
            cleaned["can_database"] = cleaned["can_database_file"]
        return cleaned
