"""Writes on the asset hierarchy (types with custom fields, batteries, meters) and readings ingestion."""

from datetime import UTC, date, datetime, timedelta
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from accounts.services import revoke_api_key
from alerts import selectors as alerts_selectors
from alerts import services as alerts
from alerts.defaults import DefaultRule
from alerts.source_rules import rule_set_source_threshold
from core.db import bound_cursor
from core.moments import EARLIEST, parse_moment
from telemetry import ingest
from telemetry.adapters import AdapterError, Report
from telemetry.adapters.foxbms import load_dbc
from telemetry.adapters.shelly import PROTECTION_EVENTS, claimed_device, normalise_device_id, parse_events, parse_shelly
from telemetry.adapters.thingset import parse_thingset
from telemetry.ingest import validation
from telemetry.ingest.schemas import DoesNotFit
from telemetry.ingest.validation import MAX_ERRORS, Invalid, clean_time, clean_values
from telemetry.metrics import METRICS, READING_TABLES, TEXT_METRICS
from telemetry.models import AssetType, Battery, Meter
from telemetry.rules import DEFAULT_RULES, SILENT_TYPE
from telemetry.selectors import REF_FIELDS, asset_model, asset_ref, asset_source, last_reading_times

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
        if not isinstance(kind, str) or kind not in FIELD_KINDS:
            raise ValidationError({where: _("Kind must be one of: %s.") % ", ".join(sorted(FIELD_KINDS))})
        choices = field.get("choices") or []
        if kind == "choice" and (not isinstance(choices, list) or not choices):
            raise ValidationError({where: _("A choice field needs its choices.")})
        if not isinstance(choices, list):
            raise ValidationError({where: _("Give the choices as a list.")})
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


def resolve_assets(kind: str, refs, *, bound_to: str = "") -> dict[int | str, int]:
    """Asset references (ids as integers, serials or device ids as text) → asset ids, in one query.
    Plain SQL on a server-binding cursor: it runs on every ingest request, and compiling the ORM
    query cost more than running it."""
    model = asset_model(kind)
    ref_field = REF_FIELDS[kind]
    ids = [ref for ref in refs if type(ref) is int]
    names = [ref for ref in refs if type(ref) is str]
    query = f"SELECT id, {ref_field} FROM {model._meta.db_table} WHERE (id = ANY(%s) OR {ref_field} = ANY(%s))"
    params: list = [ids, names]
    only = bound_asset(bound_to, kind)
    if only is not None:
        query += " AND id = %s"
        params.append(only)
    found: dict[int | str, int] = {}
    with bound_cursor() as cursor:
        cursor.execute(query, params)
        for pk, ref in cursor.fetchall():
            found[pk] = found[ref] = pk
    return found


def ingest_readings(
    *, kind: str, items, bound_to: str = "", on_conflict: ingest.OnConflict = ingest.OnConflict.REJECT
) -> ingest.Stored:
    """Validate a batch of generic readings (`{"asset", "time", "values"}` each) and store it,
    all or nothing. Raises `Invalid` naming every bad field, and `ingest.Conflicting` (with
    REJECT) when readings differ from the ones stored at the same (asset, time); conflicts name
    each reading by its position in `items`."""
    if type(kind) is not str or kind not in METRICS:
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
    readings = []
    moment = validation.now()
    for index, item in enumerate(items):
        if len(errors) >= MAX_ERRORS:
            break
        if type(item) is not dict:
            continue
        where = f"readings[{index}]"
        if f"{where}.asset" in errors:
            continue  # not an id or a serial (perhaps not even hashable): already named
        asset_id = assets.get(item.get("asset"))
        if asset_id is None:
            errors[f"{where}.asset"] = f"No {kind} “{item.get('asset')}” here" + (
                " that this key may report for." if bound_to else "."
            )
            continue
        time = clean_time(item.get("time", item.get("timestamp")), f"{where}.time", errors, moment)
        values = clean_values(kind, item.get("values"), f"{where}.values", errors)
        if time is not None and values is not None:
            readings.append(ingest.Reading(asset_id, time, values))
    if errors:
        raise Invalid(errors)
    return ingest.store_readings(kind, readings, on_conflict=on_conflict)  # one reading per item, in order


def ingest_decoded(
    *, kind: str, items: list, bound_to: str = "", on_conflict: ingest.OnConflict = ingest.OnConflict.REJECT
) -> ingest.Stored:
    """The fast path of `ingest_readings`, for a batch msgspec already decoded against the metric
    schemas (`telemetry.ingest.schemas`). Anything it cannot take as it is (an unknown asset, a moment out
    of range, empty values) raises DoesNotFit: the caller then runs `ingest_readings`, which says
    precisely what is wrong. Runs for every reading of every batch, hence whole-batch passes
    (`map`, `min`, `max` run in C) rather than one Python loop doing everything per reading."""
    if len(items) > settings.TELEMETRY_MAX_BATCH:
        raise DoesNotFit("too many readings")
    assets = resolve_assets(kind, set(map(_asset_of, items)), bound_to=bound_to)
    try:
        asset_ids = list(map(assets.__getitem__, map(_asset_of, items)))
        moments = _utc_moments(list(map(_time_of, items)))
    except (KeyError, OverflowError, OSError, ValueError):  # an unknown asset, a moment out of range
        raise DoesNotFit("needs the detailed validator") from None
    if min(moments) < EARLIEST or max(moments) > validation.now() + validation.MAX_FUTURE:
        raise DoesNotFit("a moment out of range")
    batch = ingest.ReadingBatch.from_structs(kind, asset_ids, moments, list(map(_values_of, items)))
    if batch.has_empty_reading():
        raise DoesNotFit("empty values")
    for name in TEXT_METRICS[kind] & batch.values.keys():
        # msgspec checked type and length; blank once trimmed, a state over 32 characters, a NUL: see validator
        batch.values[name] = _clean_texts(kind, name, batch.values[name])
    return ingest.store_batch(batch, on_conflict=on_conflict)


def _clean_texts(kind: str, name: str, texts: list) -> list:
    check, metric = validation.CHECKS[kind][name]
    try:
        return [None if text is None else check(text, metric) for text in texts]
    except ValueError:
        raise DoesNotFit(name) from None


_asset_of, _time_of, _values_of = attrgetter("asset"), attrgetter("time"), attrgetter("values")


def _utc_moments(moments: list) -> list[datetime]:
    """Decoded times (aware or naive datetimes, unix seconds or milliseconds) as aware UTC datetimes."""
    if set(map(type, moments)) == {datetime} and set(map(_tzinfo_of, moments)) == {UTC}:
        return moments  # ISO 8601 with Z or +00:00, the usual case: nothing to convert
    return list(map(parse_moment, moments))  # ValueError for a moment out of its bounds


_tzinfo_of = attrgetter("tzinfo")


# --- Silent assets ----------------------------------------------------------------------------------


def detect_silent_assets(now: datetime | None = None) -> int:
    """Raise a `silent` alert for each asset that reported before but not within its
    `silent_after_minutes`; resolve it when readings come back. Returns how many are silent."""
    now = now or timezone.now()
    silent = 0
    with alerts.batch():
        for kind in METRICS:
            last_times = last_reading_times(kind)
            for asset in asset_model(kind).objects.select_related("site").filter(pk__in=list(last_times)):
                quiet_for = now - last_times[asset.pk]
                source = asset_source(kind, asset)
                if quiet_for > timedelta(minutes=asset.silent_after_minutes):
                    silent += 1
                    alerts.raise_alert(
                        source=source,
                        alert_type=SILENT_TYPE,
                        severity="warning",
                        message=_("No reading for %(minutes)d minutes.") % {"minutes": quiet_for.total_seconds() // 60},
                        value=str(int(quiet_for.total_seconds())),
                        at=now,
                    )
                else:
                    alerts.resolve_condition(source=source, alert_type=SILENT_TYPE)
    return silent


# --- Device formats ----------------------------------------------------------------------------------


def find_asset(kind: str, device: str | None, *, bound_to: str = ""):
    """The asset a device message speaks for: the key's own asset when the key is bound to one
    (a device claiming another identity is refused), else the asset whose serial / device id
    matches the identity the message carries."""
    model = asset_model(kind)
    only = bound_asset(bound_to, kind)
    if only is not None:
        asset = model.objects.select_related("site").filter(pk=only).first()
        if asset is None:
            raise Invalid({"key": f"This key is not bound to a {kind}."})
        if device and normalise_device_id(device) not in (
            normalise_device_id(asset_ref(kind, asset)),
            normalise_device_id(asset_ref(kind, asset))[-12:],
        ):
            raise Invalid({"device": f"This key reports for “{asset_ref(kind, asset)}”, not “{device}”."})
        return asset
    if not device:
        raise Invalid({"device": f"Name the {kind}: use a key bound to it, or pass ?device=<its id>."})
    field = REF_FIELDS[kind]
    exact = model.objects.select_related("site").filter(**{f"{field}__iexact": device.strip()}).first()
    if exact is not None:
        return exact
    # MACs come with or without separators, and Shelly names devices by model + MAC.
    wanted = normalise_device_id(device)
    for asset in model.objects.select_related("site"):
        mine = normalise_device_id(asset_ref(kind, asset))
        if mine == wanted or (len(wanted) == 12 and mine.endswith(wanted)):
            return asset
    raise Invalid({"device": f"No {kind} “{device}” here: add it first (its id or MAC)."})


def store_reports(kind: str, asset, reports: list[Report]) -> ingest.Stored:
    """Validate adapter output for one asset and store it (time None = now)."""
    errors: dict[str, str] = {}
    readings = []
    moment = validation.now()
    for index, report in enumerate(reports):
        where = f"readings[{index}]" if len(reports) > 1 else "values"
        values = clean_values(kind, report.values, where, errors)
        time = moment if report.time is None else clean_time(report.time, f"{where}.time", errors, moment)
        if values is not None and time is not None:
            readings.append(ingest.Reading(asset.pk, time, values))
    if errors:
        raise Invalid(errors)
    return ingest.store_readings(kind, readings)


def receive_shelly(data, *, device: str | None = None, bound_to: str = "") -> ingest.Stored:
    """One Shelly message (seed webhook, GetStatus, NotifyStatus/FullStatus) for a meter."""
    try:
        meter = find_asset("meter", claimed_device(data) or device, bound_to=bound_to)
        with transaction.atomic():
            # Notifications of one device merge in order: hold the meter's row while merging.
            meter = Meter.objects.select_for_update().select_related("site").get(pk=meter.pk)
            events = parse_events(data)
            if events:
                return meter_record_events(meter=meter, events=events)
            report, status = parse_shelly(data, meter.shelly_status)
            stored = store_reports("meter", meter, [report]) if report else ingest.Stored(received=0, stored=0)
            if status is not None and status != meter.shelly_status:
                meter.shelly_status = status
                meter.save(update_fields=["shelly_status"])
    except AdapterError as exc:
        raise Invalid({exc.field: exc.reason}) from None
    return stored


MAX_METER_EVENTS = 50
SHELLY_EVENT_TYPE = "shelly_{event}"


def meter_record_events(*, meter: Meter, events: list[dict]) -> ingest.Stored:
    """Keep a Shelly device's events on its meter (newest first, the last MAX_METER_EVENTS; an event
    sent twice is kept once) and raise a critical alert for each protection that tripped."""
    now = timezone.now()
    known = {(e["component"], e["event"], e["time"]) for e in meter.shelly_events}
    new = []
    for event in events:
        entry = {**event, "time": (event["time"] or now).isoformat()}
        key = (entry["component"], entry["event"], entry["time"])
        if key not in known:
            known.add(key)
            new.append(entry)
    if new:
        meter.shelly_events = (sorted(new, key=lambda e: e["time"], reverse=True) + meter.shelly_events)[
            :MAX_METER_EVENTS
        ]
        meter.save(update_fields=["shelly_events"])
    source = asset_source("meter", meter)
    for entry in new:
        label = PROTECTION_EVENTS.get(entry["event"])
        if label is not None:
            alerts.raise_alert(
                source=source,
                alert_type=SHELLY_EVENT_TYPE.format(event=entry["event"]),
                severity="critical",
                message=_("%(component)s: %(event)s, the output is off.")
                % {"component": entry["component"], "event": label},
                value=entry["component"],
                labels={"component": entry["component"]},
            )
    return ingest.Stored(received=len(events), stored=len(new))


def receive_thingset(*, text: str, battery: Battery) -> ingest.Stored:
    """ThingSet reports or responses for one battery: store the readings, keep what no metric
    records as the battery's unmapped items, and raise (or resolve) one alert per error flag of
    the last reading, named as the firmware names it."""

    try:
        decoded = parse_thingset(text, default_device=battery.serial)
    except AdapterError as exc:
        raise Invalid({exc.field: exc.reason}) from None
    with transaction.atomic():
        stored = store_reports("battery", battery, decoded.reports)
        battery_record_thingset_items(battery=battery, firmware=decoded.firmware.key, unmapped=decoded.unmapped)
    flags = [report.values["error_flags"] for report in decoded.reports if "error_flags" in report.values]
    if flags:
        battery_raise_error_flags(battery=battery, firmware=decoded.firmware, flags=flags[-1])
    return stored


def battery_record_thingset_items(*, battery: Battery, firmware: str, unmapped: dict) -> None:
    battery.thingset_items = {"firmware": firmware, "at": timezone.now().isoformat(), "unmapped": unmapped}
    Battery.objects.filter(pk=battery.pk).update(thingset_items=battery.thingset_items)


ERROR_FLAG_TYPE = "bms_flag:{code}"


def battery_raise_error_flags(*, battery: Battery, firmware, flags: int) -> None:
    """One alert per error flag the firmware declares: raised while set, resolved once cleared."""
    source = asset_source("battery", battery)
    with alerts.batch():  # clearing flags that had no alert costs no query
        for flag in firmware.error_flags:
            alert_type = ERROR_FLAG_TYPE.format(code=flag.code)
            if flags >> flag.bit & 1:
                alerts.raise_alert(
                    source=source,
                    alert_type=alert_type,
                    severity="critical",
                    message=_("BMS error: %(flag)s (error flag bit %(bit)d).") % {"flag": flag.label, "bit": flag.bit},
                    value=str(flags),
                )
            else:
                alerts.resolve_condition(source=source, alert_type=alert_type)


def can_database_for(battery):
    """The DBC decoding a battery's CAN frames: its type's uploaded DBC, else FOXBMS_DBC_PATH."""

    text = battery.type.can_database
    if not text and settings.FOXBMS_DBC_PATH:
        try:
            with open(settings.FOXBMS_DBC_PATH, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise AdapterError("dbc", f"FOXBMS_DBC_PATH cannot be read: {exc.strerror}.") from None
    if not text:
        raise AdapterError(
            "dbc",
            f"Upload your foxBMS DBC on the battery type “{battery.type.name}” first "
            f"(portal: Types; API: can_database_file on /api/v1/telemetry/types/{battery.type_id}/).",
        )
    return load_dbc(text)


# --- Per-asset thresholds -----------------------------------------------------------------------------
# A threshold set on one asset is an alert rule scoped to that asset: it replaces the tenant's general
# rule of the same alert type for this asset only (see alerts.source_rules).

THRESHOLD_TYPES = {
    "battery": ("cell_overvoltage", "cell_undervoltage", "temperature", "soc_low"),
    "meter": ("power_high",),
}


def _template_rule(kind: str, alert_type: str) -> DefaultRule:
    """The default rule an asset's own threshold of `alert_type` is made from (the last of its type:
    for batteries' temperature, the critical one)."""
    for rule in reversed(DEFAULT_RULES):
        if rule.source_type == kind and rule.alert_type == alert_type:
            return rule
    raise KeyError(alert_type)


def asset_thresholds(kind: str, asset) -> dict[str, float]:
    return alerts_selectors.source_thresholds(
        source_type=kind, source_id=asset_ref(kind, asset), alert_types=THRESHOLD_TYPES[kind]
    )


def set_asset_thresholds(kind: str, asset, thresholds: dict[str, float | None]) -> None:
    """Set (a number) or clear (None) this asset's own thresholds, by alert type."""
    for alert_type, value in thresholds.items():
        rule_set_source_threshold(
            source_type=kind,
            source_id=asset_ref(kind, asset),
            threshold=value,
            template=_template_rule(kind, alert_type),
            label=asset.name,
        )


def sync_meter_threshold(meter: Meter) -> None:
    """The meter's power alert threshold (the seed's ALERT_THRESHOLD) is its `power_high` rule."""
    set_asset_thresholds("meter", meter, {"power_high": meter.power_alert_threshold})


def delete_asset(kind: str, asset, *, by=None) -> None:
    """An asset goes with its readings, rollups, own rules and the keys bound to it (readings carry
    no foreign key)."""

    with transaction.atomic():
        for key in ApiKey.objects.filter(bound_to=f"{kind}:{asset.pk}", revoked_at__isnull=True):
            revoke_api_key(key=key, by=by)
        set_asset_thresholds(kind, asset, dict.fromkeys(THRESHOLD_TYPES[kind]))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {READING_TABLES[kind]} WHERE asset_id = %s", [asset.pk])
            cursor.execute("DELETE FROM telemetry_rollup WHERE kind = %s AND asset_id = %s", [kind, asset.pk])
            cursor.execute("DELETE FROM telemetry_dirty_hour WHERE kind = %s AND asset_id = %s", [kind, asset.pk])
            cursor.execute("DELETE FROM telemetry_unchecked WHERE kind = %s AND asset_id = %s", [kind, asset.pk])
        asset.delete()
