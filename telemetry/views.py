"""Portal pages of the asset hierarchy: lists with filters, live asset pages, sites, types, forms, exports.

Batteries and meters share one set of views, parametrised by the asset kind (`telemetry.listing.KINDS`).
Everyone signed in reads; operators and admins create and edit; admins delete.
"""

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, localize, number_format, time_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import ApiKey
from accounts.services import create_api_key
from core.http import client_ip
from core.navigation import SECTION_BY_SLUG
from sites import selectors as sites_selectors
from sites import services as sites_services
from sites.forms import SiteForm
from telemetry import configuration, selectors, services
from telemetry.adapters import AdapterError
from telemetry.adapters.foxbms import error_signals
from telemetry.adapters.thingset_items import FIRMWARE_BY_KEY, error_flag_labels
from telemetry.api.series import export_response
from telemetry.forms import THRESHOLD_LABELS, AssetTypeForm
from telemetry.listing import KINDS, Kind, asset_list_table, filtered, kind_named, rows_with_latest
from telemetry.metrics import METRIC_BY_NAME
from telemetry.models import AssetType, Chemistry
from telemetry.series import latest

EDITORS = ("admin", "operator")
PAGE_SIZE = 50

# The latest-value cards of an asset page, in order, with the decimals each is shown with
# ("spread" is the cell spread in mV, derived from the lowest and highest cell voltages).
CARDS = {
    "battery": (
        ("voltage", 2), ("current", 2), ("power", 0), ("soc", 1), ("soh", 1), ("temperature", 1),
        ("cell_voltage_min", 3), ("cell_voltage_max", 3), ("spread", 0), ("state", None), ("error_flags", None),
    ),
    "meter": (
        ("power", 1), ("voltage", 1), ("current", 2), ("pf", 2), ("frequency", 2), ("energy_total_wh", 0),
        ("temperature", 1), ("output", None), ("errors", None),
    ),
}  # fmt: skip
# The history charts (one canvas each) and the columns of the readings table under them.
CHARTS = {
    "battery": (("voltage",), ("current",), ("temperature",), ("soc", "soh")),
    "meter": (("power",), ("voltage",), ("current",)),
}
TABLE_COLUMNS = {
    "battery": (("voltage", 2), ("current", 2), ("temperature", 1), ("soc", 1), ("soh", 1), ("state", None)),
    "meter": (("power", 1), ("voltage", 1), ("current", 2), ("energy_total_wh", 1)),
}
CELLS_SUMMARY = gettext_lazy("min %(min)s V, max %(max)s V, spread %(spread)s mV")
RECENT_COUNT = {"battery": 20, "meter": 10}
EXPORT_METRICS = {
    "battery": "voltage,current,temperature,soc,soh",
    "meter": "power,voltage,current,energy_wh",
}


def _can_edit(request) -> bool:
    return request.user.role in EDITORS


# --- Lists --------------------------------------------------------------------------------------------


@login_required
def asset_list(request, kind: str):
    kind = kind_named(kind)
    filters = {name: value for name, value in request.GET.items() if value and name != "page"}
    page = Paginator(filtered(kind, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode(filters)
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "page": page,
        "rows": rows_with_latest(kind, list(page.object_list)),
        "sites": sites_selectors.sites(),
        "types": AssetType.objects.filter(kind=kind.name),
        "chemistries": Chemistry.choices,
        "filters": filters,
        "query": query,
        "refresh_url": f"{request.path}?{query}{'&' if query else ''}page={page.number}",
        "can_edit": _can_edit(request),
    }
    if not request.headers.get("HX-Request"):
        return render(request, "telemetry/asset_list.html", context)
    response = render(request, "telemetry/_asset_results.html", context)
    if request.headers.get("HX-Trigger") == "asset-filters":
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path  # without the empty fields
    return response


@login_required
def asset_list_export(request, kind: str, fmt: str):
    kind = kind_named(kind)
    table = asset_list_table(kind, request.GET, request.tenant.timezone)
    return export_response(table, fmt, f"voltwatch-{kind.section}", request=request)


# --- Asset page ---------------------------------------------------------------------------------------


def _foxbms_dbc(asset) -> tuple[list[str], str]:
    """A foxBMS battery's error flag names from its type's DBC, and why there are none (the DBC
    is missing or does not parse), "" when it reads."""

    try:
        return error_signals(services.can_database_for(asset)), ""
    except AdapterError as exc:
        return [], exc.reason


def _error_flag_names(asset, dbc_names: list[str]) -> list[str]:
    """The bit names of a battery's error flags: its foxBMS DBC's, else those of the ThingSet
    firmware it last reported with ([] when unknown)."""
    if asset.connector == "foxbms":
        return dbc_names

    return error_flag_labels((asset.thingset_items or {}).get("firmware", ""))


def error_flags_text(value, names: list[str]) -> str | None:
    if value is None:
        return None
    if not value:
        return _("None")
    bits = [bit for bit in range(64) if value >> bit & 1]
    return ", ".join(names[bit] if bit < len(names) else _("bit %(bit)d") % {"bit": bit} for bit in bits)


def _display(name: str, value, digits: int | None, flag_names: list[str]) -> str:
    if value is None:
        return "—"
    if name == "error_flags":
        return error_flags_text(value, flag_names)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if digits is not None and isinstance(value, int | float):
        return number_format(round(value, digits) or 0, digits)  # never "-0.00"
    return str(value)


def _values_with_spread(values: dict) -> dict:
    low, high = values.get("cell_voltage_min"), values.get("cell_voltage_max")
    if low is not None and high is not None:
        return {**values, "spread": (high - low) * 1000}
    return values


def _metric_meta(kind: Kind, name: str) -> tuple[str, str]:
    if name == "spread":
        return _("Cell spread"), "mV"
    metric = METRIC_BY_NAME[kind.name][name]
    return str(metric.label), metric.unit


def _cards(kind: Kind, values: dict, flag_names: list[str]) -> list[dict]:
    values = _values_with_spread(values)
    cards = []
    for name, digits in CARDS[kind.name]:
        label, unit = _metric_meta(kind, name)
        cards.append(
            {
                "name": name,
                "label": label,
                "unit": unit,
                "digits": digits,
                "text": _display(name, values.get(name), digits, flag_names),
            }
        )
    return cards


def _recent_rows(kind: Kind, readings: list[dict], flag_names: list[str]) -> list[list[str]]:
    return [
        [moment_text(r["time"])]
        + [_display(name, r.get(name), digits, flag_names) for name, digits in TABLE_COLUMNS[kind.name]]
        for r in readings
    ]


def moment_text(moment) -> str:
    """A reading's time to the second, in the tenant's zone: readings may come every second."""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'SHORT_DATE_FORMAT')} {time_format(local, 'H:i:s')}"


def _custom_values(asset) -> list[tuple[str, str]]:
    shown = []
    for definition in asset.type.custom_fields if asset.type else []:
        value = asset.custom_values.get(definition["name"])
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        text = "—" if value in (None, "") else f"{value}{' ' + definition['unit'] if definition.get('unit') else ''}"
        shown.append((definition["label"], text))
    return shown


@login_required
def asset_detail(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model.objects.select_related("site", "type"), pk=pk)
    last = latest(kind.name, [asset.pk]).get(asset.pk)
    values = last["values"] if last else {}
    is_foxbms = kind.name == "battery" and asset.connector == "foxbms"
    dbc_names, dbc_problem = _foxbms_dbc(asset) if is_foxbms else ([], "")
    flag_names = _error_flag_names(asset, dbc_names) if kind.name == "battery" else []
    thingset = getattr(asset, "thingset_items", None) or {}
    threshold = getattr(asset, "power_alert_threshold", None)
    recent = selectors.recent_readings(kind.name, asset.pk, RECENT_COUNT[kind.name])
    end = timezone.now()
    can_edit = _can_edit(request)
    bound_to = f"{kind.name}:{asset.pk}"
    new_key = request.session.pop(f"new_key_{bound_to}", None)
    thresholds = services.asset_thresholds(kind.name, asset)
    charts = [
        {"metrics": ",".join(metrics), "label": " · ".join(_metric_meta(kind, m)[0] for m in metrics)}
        for metrics in CHARTS[kind.name]
    ]
    metric_names = {m for metrics in CHARTS[kind.name] for m in metrics}
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "asset": asset,
        "ref": selectors.asset_ref(kind.name, asset),
        "latest": last,
        "cards": _cards(kind, values, flag_names),
        "cells": values.get("cell_voltages"),
        "cells_summary": _cells_summary(values.get("cell_voltages")),
        "charts": charts,
        "columns": [_metric_meta(kind, name) for name, _digits in TABLE_COLUMNS[kind.name]],
        "recent": _recent_rows(kind, recent, flag_names),
        "recent_count": RECENT_COUNT[kind.name],
        "over_threshold": bool(threshold is not None and (values.get("power") or 0) > threshold),
        "thresholds": [(THRESHOLD_LABELS[t], thresholds[t]) for t in THRESHOLD_LABELS if t in thresholds],
        "custom": _custom_values(asset),
        "dbc_problem": dbc_problem,
        "thingset_firmware": _thingset_firmware_label(thingset.get("firmware")),
        "unmapped_items": [
            (path, value if isinstance(value, str) else json.dumps(value))  # as the device sent it
            for path, value in sorted((thingset.get("unmapped") or {}).items())
        ],
        "device_events": [
            {**event, "time": parse_datetime(event["time"]) if event.get("time") else None}
            for event in getattr(asset, "shelly_events", None) or []
        ],
        "export_query": urlencode(
            {
                "assets": bound_to,
                "metrics": EXPORT_METRICS[kind.name],
                "start": (end - timedelta(hours=24)).isoformat(),
                "end": end.isoformat(),
                "interval": "auto",
            }
        ),
        "can_edit": can_edit,
        "keys": ApiKey.objects.filter(bound_to=bound_to, revoked_at__isnull=True) if can_edit else [],
        "new_key": new_key,
        "webhook": request.build_absolute_uri(reverse("shelly-webhook-key", args=[new_key or "KEY"])),
        "live_config": {
            "kind": kind.name,
            "asset": asset.pk,
            "series": reverse("telemetry-series"),
            "tz": timezone.get_current_timezone_name(),
            "threshold": threshold,
            "cells": kind.name == "battery",
            "initial_cells": values.get("cell_voltages"),
            "flag_names": flag_names,
            "cards": {name: digits for name, digits in CARDS[kind.name]},
            "columns": TABLE_COLUMNS[kind.name],
            "recent_count": RECENT_COUNT[kind.name],
            "metrics": {
                name: dict(zip(("label", "unit"), _metric_meta(kind, name), strict=True)) for name in metric_names
            },
            "export_metrics": EXPORT_METRICS[kind.name],
            "text": {
                "none": _("None"),
                "bit": _("bit %(bit)d"),
                "yes": _("yes"),
                "no": _("no"),
                "cells": CELLS_SUMMARY,
                "unavailable": _("The history cannot be loaded just now."),
                "intervals": {
                    "raw": _("Every reading in the range."),
                    "1m": _("One-minute averages."),
                    "1h": _("Hourly averages."),
                    "1d": _("Daily averages."),
                },
            },
        },
    }
    response = render(request, "telemetry/asset_detail.html", context)
    if new_key:
        response["Cache-Control"] = "no-store"  # the page shows a secret once
    return response


def _thingset_firmware_label(key: str | None) -> str:
    firmware = FIRMWARE_BY_KEY.get(key or "")
    return firmware.label if firmware else ""


def _cells_summary(cells) -> str:
    if not cells:
        return ""
    low, high = min(cells), max(cells)
    return str(CELLS_SUMMARY) % {
        "min": localize(round(low, 3)),
        "max": localize(round(high, 3)),
        "spread": number_format((high - low) * 1000, 0),
    }


# --- Asset forms and actions --------------------------------------------------------------------------


@role_required(*EDITORS)
def asset_form(request, kind: str, pk: int | None = None):
    """New or edited asset. Its type is chosen first (`?type=`, "none" for a meter without one): the
    type decides which custom fields the form has."""
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model.objects.select_related("type"), pk=pk) if pk else kind.model()
    types = AssetType.objects.filter(kind=kind.name)
    chosen = request.GET.get("type", "")
    if chosen.isdigit():
        asset.type = get_object_or_404(types, pk=int(chosen))
    elif chosen == "none" and kind.name == "meter":
        asset.type = None
    choose_type = not pk and not chosen and (kind.name == "battery" or types.exists())
    form = kind.form(request.POST or None, instance=asset)
    if request.method == "POST" and not choose_type and form.is_valid():
        saved = configuration.asset_save(
            kind=kind.name,
            asset=form.save(commit=False),
            by=request.user,
            ip_address=client_ip(request),
            thresholds=form.thresholds() if kind.name == "battery" else None,
        )
        messages.success(request, _("Saved."))
        return redirect("telemetry:asset", kind=kind.name, pk=saved.pk)
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "form": form,
        "asset": asset if pk else None,
        "types": types,
        "type_id": asset.type_id,
        "choose_type": choose_type,
        "has_sites": sites_selectors.sites().exists(),
    }
    return render(request, "telemetry/asset_form.html", context, status=400 if form.errors else 200)


@role_required("admin")
def asset_delete(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model, pk=pk)
    if request.method == "POST":
        configuration.asset_delete(kind=kind.name, asset=asset, by=request.user, ip_address=client_ip(request))
        messages.success(request, _("“%(name)s” is deleted, with its readings.") % {"name": asset.name})
        return redirect(f"telemetry:{kind.section}")
    return render(
        request, "telemetry/asset_delete.html", {"section": SECTION_BY_SLUG[kind.section], "kind": kind, "asset": asset}
    )


@role_required(*EDITORS)
@require_POST
def asset_key(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model, pk=pk)
    _key, token = create_api_key(
        name=f"{asset.name} ({selectors.asset_ref(kind.name, asset)})",
        scopes=["ingest"],
        bound_to=f"{kind.name}:{asset.pk}",
        created_by=request.user,
    )
    request.session[f"new_key_{kind.name}:{asset.pk}"] = token
    return redirect("telemetry:asset", kind=kind.name, pk=asset.pk)


# --- Sites --------------------------------------------------------------------------------------------


@login_required
def site_list(request):
    sites = sites_selectors.sites().annotate(
        battery_count=Count("batteries", distinct=True), meter_count=Count("meters", distinct=True)
    )
    return render(
        request,
        "telemetry/site_list.html",
        {"section": SECTION_BY_SLUG["batteries"], "sites": sites, "can_edit": _can_edit(request)},
    )


@login_required
def site_detail(request, code: str):
    site = get_object_or_404(sites_selectors.sites(), code=code)
    groups = [
        (KINDS["battery"], rows_with_latest(KINDS["battery"], list(site.batteries.select_related("type", "site")))),
        (KINDS["meter"], rows_with_latest(KINDS["meter"], list(site.meters.select_related("type", "site")))),
    ]
    return render(
        request,
        "telemetry/site_detail.html",
        {"section": SECTION_BY_SLUG["batteries"], "site": site, "groups": groups, "can_edit": _can_edit(request)},
    )


@role_required(*EDITORS)
def site_form(request, code: str | None = None):
    site = get_object_or_404(sites_selectors.sites(), code=code) if code else None
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        saved = sites_services.site_save(site=form.save(commit=False), by=request.user, ip_address=client_ip(request))
        messages.success(request, _("Saved."))
        return redirect("telemetry:site", code=saved.code)
    context = {
        "section": SECTION_BY_SLUG["batteries"],
        "form": form,
        "title": site.name if code else _("New site"),
        "tab": "sites",
        "cancel": reverse("telemetry:site", args=[code]) if code else reverse("telemetry:sites"),
    }
    return render(request, "telemetry/simple_form.html", context, status=400 if form.errors else 200)


# --- Asset types --------------------------------------------------------------------------------------


@login_required
def type_list(request):
    types = AssetType.objects.annotate(
        battery_count=Count("batteries", distinct=True), meter_count=Count("meters", distinct=True)
    )
    return render(
        request,
        "telemetry/type_list.html",
        {"section": SECTION_BY_SLUG["batteries"], "types": types, "can_edit": _can_edit(request)},
    )


@role_required(*EDITORS)
def type_form(request, pk: int | None = None):
    asset_type = get_object_or_404(AssetType, pk=pk) if pk else AssetType()
    form = AssetTypeForm(request.POST or None, request.FILES or None, instance=asset_type)
    if request.method == "POST" and form.is_valid():
        configuration.asset_type_save(
            asset_type=form.save(commit=False), by=request.user, ip_address=client_ip(request)
        )
        messages.success(request, _("Saved."))
        return redirect("telemetry:types")
    context = {
        "section": SECTION_BY_SLUG["batteries"],
        "form": form,
        "title": asset_type.name if pk else _("New asset type"),
        "tab": "types",
        "cancel": reverse("telemetry:types"),
    }
    return render(request, "telemetry/simple_form.html", context, status=400 if form.errors else 200)
