"""The Charging section: filters, the 13 tabs, exports of their tables, the session list.

`/charging/?tab=general&period=month&d1=2026-03-01&sites=…` is the page (bookmarkable); a change of
filter or tab fetches only `/charging/tab/<name>/?<filters>`, which pushes the page's address back
into the browser (HX-Push-Url). Every tab renders a `charging.analyses.base.Result`, whatever the
analysis: headline figures as cards, each table sortable with its CSV and XLSX exports, each chart
(data in a json_script, drawn by static/charging/charging.js) followed by the table that says the
same in text, the analysis's notes in one line each."""

import contextlib
import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from charging import exports, selectors
from charging.analyses import NAMES, analysis
from charging.analyses.base import Result, Table
from charging.analyses.sql import site_labels
from charging.filters import InvalidFilter
from charging.views.common import (
    SECTION,
    FilterState,
    filter_form_context,
    freshness,
    htmx_login,
    query_string,
    read_filters,
    shown,
    sort_key,
    zone_of,
)
from charging.vocabulary import FILTERABLE_TYPES
from core.redis_client import RedisUnavailable, guarded
from core.views import error_response

# Headline figures are named fields (as the API gives them); these are their labels on a card.
FIGURE_LABELS = {
    "total": gettext_lazy("Total"),
    "ok": gettext_lazy("OK"),
    "failed": gettext_lazy("Failed"),
    "success_pct": gettext_lazy("Success rate"),
    "failure_pct": gettext_lazy("Failure rate"),
    "count": gettext_lazy("Count"),
    "groups": gettext_lazy("Groups"),
    "sessions": gettext_lazy("Sessions"),
    "alerts": gettext_lazy("Alerts"),
    "alerts_level": gettext_lazy("Alerts level"),
    "active_faults": gettext_lazy("Active faults"),
    "active_faults_level": gettext_lazy("Active faults level"),
    "suspicious": gettext_lazy("Suspicious sessions"),
    "multiple_attempts": gettext_lazy("Multiple-attempt groups"),
    "sites": gettext_lazy("Sites"),
    "site": gettext_lazy("Site"),
    "site2": gettext_lazy("Second site"),
    "site_name": gettext_lazy("Site name"),
    "month": gettext_lazy("Month"),
    "failed_listed": gettext_lazy("Failed sessions listed"),
    "ok_listed": gettext_lazy("OK sessions listed"),
    "row_limit": gettext_lazy("Rows listed at most"),
    "energy_total_kwh": gettext_lazy("Energy, total (kWh)"),
    "energy_mean_kwh": gettext_lazy("Energy, mean (kWh)"),
    "energy_max_kwh": gettext_lazy("Energy, max (kWh)"),
    "mean_power_mean_kw": gettext_lazy("Mean power, mean (kW)"),
    "mean_power_max_kw": gettext_lazy("Mean power, max (kW)"),
    "max_power_mean_kw": gettext_lazy("Max power, mean (kW)"),
    "max_power_max_kw": gettext_lazy("Max power, max (kW)"),
    "soc_start_mean": gettext_lazy("SOC start, mean (%)"),
    "soc_end_mean": gettext_lazy("SOC end, mean (%)"),
    "soc_gain_mean": gettext_lazy("SOC gain, mean (%)"),
    "duration_mean_min": gettext_lazy("Duration, mean (min)"),
    "charges_900v": gettext_lazy("900 V charges"),
    "charges_900v_pct": gettext_lazy("900 V share"),
    "days": gettext_lazy("Days"),
    "ok_per_day_mean": gettext_lazy("OK charges per day, mean"),
    "ok_per_day_median": gettext_lazy("OK charges per day, median"),
    "busiest_site": gettext_lazy("Busiest site"),
    "busiest_day": gettext_lazy("Busiest day"),
    "busiest_ok": gettext_lazy("OK charges on the busiest day"),
    "failed_evi": gettext_lazy("EVI failures"),
    "failed_downstream": gettext_lazy("Downstream failures"),
    "mac": gettext_lazy("MAC"),
    "code_type": gettext_lazy("Code type"),
    "mac_sessions": gettext_lazy("Sessions of this MAC"),
    "mac_ok": gettext_lazy("OK sessions of this MAC"),
    "mac_failed": gettext_lazy("Failed sessions of this MAC"),
    "errors": gettext_lazy("Errors"),
    "matching": gettext_lazy("Matching errors"),
    "share_pct": gettext_lazy("Share of the errors"),
    "drill_site": gettext_lazy("Drill-down site"),
    "drill_month": gettext_lazy("Drill-down month"),
    "drill_day": gettext_lazy("Drill-down day"),
    "active": gettext_lazy("In progress"),
    "resolved": gettext_lazy("Resolved"),
    "in_progress": gettext_lazy("In progress"),
    "mean_duration_days": gettext_lazy("Mean duration (days)"),
    "energy_kwh": gettext_lazy("Energy (kWh)"),
}
# An analysis's own parameters, as its options form names them (the parameter's name otherwise).
PARAM_LABELS = {
    "site": gettext_lazy("Site"),
    "site2": gettext_lazy("Second site"),
    "month": gettext_lazy("Month"),
    "charge_points_only": gettext_lazy("Charge points only"),
    "mac": gettext_lazy("MAC"),
    "codes": gettext_lazy("Codes"),
    "code_type": gettext_lazy("Code type"),
    "drill_site": gettext_lazy("Drill-down site"),
    "drill_month": gettext_lazy("Drill-down month"),
    "drill_day": gettext_lazy("Drill-down day"),
}
NUMERIC_KINDS = ("int", "float", "pct")


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404(_("Export as csv or xlsx."))
    return fmt


def _shared(query: dict) -> dict:
    """The shared filters of a query (the tab's own parameters left out), for the tab links."""
    return {k: v for k, v in query.items() if k in _SHARED}


def _module(name: str):
    if name not in NAMES:
        raise Http404(_("There is no such analysis."))
    return analysis(name)


def tabs() -> list[dict]:
    return [{"name": name, "title": analysis(name).TITLE} for name in NAMES]


def page_url(name: str, query: dict) -> str:
    return reverse("charging:index") + "?" + query_string({"tab": name, **query})


def _figure_label(module, key: str) -> str:
    own = getattr(module, "FIGURE_LABELS", {}).get(key)
    return str(own or FIGURE_LABELS.get(key) or key.replace("_pct", " %").replace("_", " ").capitalize())


LEVEL_PILLS = {"red": "pill-critical", "amber": "pill-warning", "green": "pill-ok"}
LEVEL_WORDS = {"red": gettext_lazy("red"), "amber": gettext_lazy("amber"), "green": gettext_lazy("green")}


def _figures(result: Result, module=None) -> list[dict]:
    """The headline figures as cards: scalars only (a list or a mapping is a table's job); a
    `…_level` figure (red, amber, green) as a pill that also says its level in words."""
    cards = []
    for key, value in result.figures.items():
        if isinstance(value, (dict, list, tuple)) or value == "":
            continue
        kind = "pct" if key.endswith("_pct") else "float" if isinstance(value, float) else "int"
        card = {"key": key, "label": _figure_label(module, key), "value": shown(value, kind, None)}
        if key.endswith("_level"):
            card["pill"] = LEVEL_PILLS.get(str(value), "pill-info")
            card["value"] = str(LEVEL_WORDS.get(str(value), card["value"]))  # the API keeps red, amber, green
        cards.append(card)
    return cards


SHADE_STEP = 17  # % of the accent colour per shade 0–4, as the heatmap's strongest cell (70 %)


def _table_view(table: Table, name: str, query: dict, links: dict, zone) -> dict:
    rows = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            value = row.get(column.key)
            numeric = column.kind in NUMERIC_KINDS
            cell = {"text": shown(value, column.kind, zone), "sort": sort_key(value), "numeric": numeric}
            shade = (row.get("buckets") or {}).get(column.key)
            if shade is not None:  # a shaded cell (pivot): the colour beside its number, never instead
                cell["heat"] = shade * SHADE_STEP
            if column.kind == "link" and value:
                # The analysis's own address (`<key>_url` or `link`), else the source's template.
                cell["href"] = (
                    row.get(f"{column.key}_url")
                    or row.get("link")
                    or selectors.session_link(links, value, row.get("source_id"))
                )
            cells.append(cell)
        rows.append(cells)
    qs = query_string(query)
    return {
        "key": table.key,
        "title": table.title,
        "note": table.note,
        "columns": [{"key": c.key, "label": c.label, "numeric": c.kind in NUMERIC_KINDS} for c in table.columns],
        "rows": rows,
        "csv": reverse("charging:export", args=[name, table.key, "csv"]) + (f"?{qs}" if qs else ""),
        "xlsx": reverse("charging:export", args=[name, table.key, "xlsx"]) + (f"?{qs}" if qs else ""),
    }


def _heatmap(chart) -> dict:
    """A heatmap as a table of shaded cells that also carry their numbers (colour is never the only
    signal): one row per dataset, one column per label."""
    peak = max((v or 0 for d in chart.datasets for v in d["data"]), default=0) or 1
    return {
        "labels": chart.labels,
        "rows": [
            {"label": d["label"], "cells": [{"value": v, "level": round((v or 0) / peak * 70)} for v in d["data"]]}
            for d in chart.datasets
        ],
    }


def _chart_view(chart, name: str) -> dict:
    view = {"key": chart.key, "title": chart.title, "kind": chart.kind, "table": chart.table,
            "element_id": f"chart-{name}-{chart.key}"}  # fmt: skip
    if chart.kind == "heatmap":
        view["heatmap"] = _heatmap(chart)
    else:
        view["data"] = Result._chart_json(chart)
    return view


def result_view(result: Result, name: str, query: dict, module=None) -> dict:
    """A Result as the tab template shows it: each table with the charts that draw it just before
    it (in the analysis's order of tables), then any chart whose table is missing."""
    links = selectors.session_links()
    zone = zone_of(selectors.time_zone_name())
    charts = [_chart_view(chart, name) for chart in result.charts]
    blocks = []
    for table in result.tables:
        blocks.append({
            "charts": [chart for chart in charts if chart["table"] == table.key],
            "table": _table_view(table, name, query, links, zone),
        })  # fmt: skip
    keys = {table.key for table in result.tables}
    blocks.extend({"charts": [chart], "table": None} for chart in charts if chart["table"] not in keys)
    return {"figures": _figures(result, module), "blocks": blocks, "notes": result.notes}


def _param_label(module, name: str) -> str:
    own = getattr(module, "PARAM_LABELS", {}).get(name)
    return str(own or PARAM_LABELS.get(name) or name.replace("_", " ").capitalize())


def _param_widget(name: str) -> str:
    """The input an analysis's own parameter gets, by the house naming of parameters: `…site…` a
    site, `…month` a month, `…day` a date, `…_only` a yes/no, `…_type` an error type, else text."""
    if "site" in name:
        return "site"
    for suffix, widget in (("month", "month"), ("day", "date"), ("_only", "checkbox"), ("_type", "type")):
        if name.endswith(suffix):
            return widget
    return "text"


def _params(module, request, errors: dict) -> list[dict]:
    return [
        {"name": p, "label": _param_label(module, p), "value": request.GET.get(p, ""), "widget": _param_widget(p),
         "help": str(getattr(module, "PARAM_HELP", {}).get(p, "")), "error": errors.get(p, "")}
        for p in getattr(module, "PARAMS", ())
    ]  # fmt: skip


def _code_version() -> str:
    """What the cached tabs were rendered with: a deployment that changes the templates or this
    module never serves a tab rendered by the previous one."""
    here = Path(__file__).resolve()
    templates = here.parent.parent / "templates" / "charging"
    parts = [here.read_bytes(), *(path.read_bytes() for path in sorted(templates.glob("_*.html")))]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


CODE_VERSION = _code_version()


@lru_cache(maxsize=64)
def _analysis_version(path: str) -> str:
    """The analysis's own code, likewise: a new version of it computes its figures afresh."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def result_html(module, name: str, filters, query: dict) -> str:
    """The tab's rendered Result, kept in Redis per tenant, data generation, language, filters, time
    zone and link templates (an import changes the generation: older pages are never served again);
    Redis down, it is rendered every time."""
    links = selectors.session_links()
    zone = selectors.time_zone_name()
    version = CODE_VERSION + _analysis_version(getattr(module, "__file__", None) or __file__)
    text = "|".join([version, connection.schema_name, str(selectors.generation()), get_language() or "", name,
                     filters.cache_key(), query_string(query), zone, repr(sorted(links.items()))])  # fmt: skip
    key = "charging:tab:" + hashlib.sha256(text.encode()).hexdigest()
    try:
        hit = guarded(lambda client: client.get(key))
    except RedisUnavailable:
        hit = None
    if hit is not None:
        return mark_safe(hit.decode())
    html = render_to_string("charging/_result.html", {"result": result_view(module.run(filters), name, query, module)})
    with contextlib.suppress(RedisUnavailable):
        guarded(lambda client: client.set(key, html.encode(), ex=settings.CHARGING_CACHE_S))
    return mark_safe(html)


def _tab_context(request, name: str) -> tuple[dict, FilterState]:
    module = _module(name)
    params = tuple(getattr(module, "PARAMS", ()))
    state = read_filters(request.GET, extra=params)
    context = {
        "section": SECTION,
        "tab": name,
        "title": module.TITLE,
        "state": state,
        "tab_url": reverse("charging:tab", args=[name]),
        "page_url": page_url(name, state.query),
        "site_choices": selectors.site_choices(),
        "type_choices": list(FILTERABLE_TYPES),
    }
    if state.filters is not None:
        try:
            context["result_html"] = result_html(module, name, state.filters, state.query)
        except InvalidFilter as invalid:  # the analysis's own parameters, checked by the analysis
            state.errors.update(invalid.fields)
    state.labels = {p: _param_label(module, p) for p in params}
    context["params"] = _params(module, request, state.errors)
    return context, state


@login_required
def index(request):
    shown_tabs = tabs()
    name = request.GET.get("tab") or shown_tabs[0]["name"]  # the first tab: the overview
    context, state = _tab_context(request, name)
    shared = _shared(state.query)
    context.update(
        filter_form_context(state), freshness=freshness(), tabs=shown_tabs, shared_query=shared,
        sessions_query=query_string(shared),
    )  # fmt: skip
    return render(request, "charging/index.html", context, status=400 if state.errors else 200)


@htmx_login
@login_required
def tab(request, name: str):
    """One tab's content (HTMX); the address bar gets the page's address with the same filters."""
    context, state = _tab_context(request, name)
    context.update(tabs=tabs(), shared_query=_shared(state.query))
    context["is_htmx"] = True
    response = render(request, "charging/_tab.html", context)
    if not state.errors:
        response["HX-Push-Url"] = context["page_url"]
    return response


_SHARED = ("period", "d1", "d2", "sites", "types", "moments")


@login_required
def export(request, name: str, table: str, fmt: str):
    fmt = _format(fmt)
    module = _module(name)
    state = read_filters(request.GET, extra=tuple(getattr(module, "PARAMS", ())))
    if state.filters is None:
        reasons = "; ".join(f"{e['label']}: {e['reason']}" for e in state.error_list)
        return error_response(request, 400, "invalid_filter", reasons)
    try:
        result = module.run(state.filters)
    except InvalidFilter as invalid:
        return error_response(request, 400, "invalid_filter", "; ".join(f"{k}: {v}" for k, v in invalid.fields.items()))
    try:
        found = result.table(table)
    except StopIteration:
        raise Http404(_("This analysis has no such table.")) from None
    filters = state.filters
    subtitle = _("%(analysis)s · %(d1)s → %(d2)s") % {"analysis": module.TITLE, "d1": filters.d1, "d2": filters.d2}
    stamp = f"{filters.d1:%Y%m%d}-{filters.d2:%Y%m%d}"
    return exports.response(
        exports.export_table(found, subtitle=subtitle, time_zone=selectors.time_zone_name()),
        fmt,
        f"charging-{name}-{table}-{stamp}",
        request=request,
    )


# --- The session list ----------------------------------------------------------------------------

PAGE_SIZE = 50
SESSION_PARAMS = ("q", "status")


def _cursor(value: str) -> tuple | None:
    try:
        started, pk = value.rsplit("|", 1)
        return datetime.fromisoformat(started), int(pk)
    except ValueError:
        return None


@htmx_login
@login_required
def sessions(request):
    state = read_filters(request.GET, extra=SESSION_PARAMS)
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in ("", "ok", "failed"):
        state.errors["status"] = _("Choose all, ok or failed.")
    context = {
        "section": SECTION,
        "freshness": freshness(),
        "q": q,
        "status": status,
        **filter_form_context(state),
    }
    if state.filters is not None and not state.errors:
        after = _cursor(request.GET.get("after", ""))
        found = selectors.sessions_list(state.filters, q, status=status)
        listed = selectors.sessions_list(state.filters, q, status=status, after=after)
        page = list(exports.session_values(listed)[: PAGE_SIZE + 1])
        more = len(page) > PAGE_SIZE
        page = page[:PAGE_SIZE]
        zone = zone_of(selectors.time_zone_name())
        links = selectors.session_links()
        names = {pk: label["site"] for pk, label in site_labels(s.site_id for s in page).items()}
        query = state.query
        kinds = [{"number": "float"}.get(c.kind, c.kind) for c in exports.session_columns()]
        rows = [
            {
                "cells": [shown(v, kind, zone) for v, kind in zip(exports.session_row(s, names), kinds, strict=True)],
                "href": selectors.session_link(links, s.external_id, s.source_id),
            }
            for s in page
        ]
        qs = query_string(query)
        context.update(
            columns=exports.session_columns(),
            rows=rows,
            count=found.count(),
            next_url=_next_url(query, page[-1]) if more else "",
            first_url=reverse("charging:sessions") + (f"?{qs}" if qs else "") if after else "",
            csv=reverse("charging:sessions-export", args=["csv"]) + (f"?{qs}" if qs else ""),
            xlsx=reverse("charging:sessions-export", args=["xlsx"]) + (f"?{qs}" if qs else ""),
        )
    htmx = bool(request.headers.get("HX-Request"))
    template = "charging/_sessions.html" if htmx else "charging/sessions.html"
    response = render(request, template, context, status=400 if state.errors and not htmx else 200)
    patch_vary_headers(response, ["HX-Request"])  # one address, a page or its list
    return response


def _next_url(query: dict, last) -> str:
    return (
        reverse("charging:sessions")
        + "?"
        + query_string({**query, "after": f"{last.started_at.isoformat()}|{last.pk}"})
    )


@login_required
def sessions_export(request, fmt: str):
    fmt = _format(fmt)
    state = read_filters(request.GET, extra=SESSION_PARAMS)
    status = request.GET.get("status", "")
    if state.filters is None or status not in ("", "ok", "failed"):
        reasons = "; ".join(f"{e['label']}: {e['reason']}" for e in state.error_list) or _("Choose all, ok or failed.")
        return error_response(request, 400, "invalid_filter", reasons)
    filters = state.filters
    listed = selectors.sessions_list(filters, request.GET.get("q", ""), status=status)
    return exports.sessions_download(listed, filters, fmt, request=request)


urlpatterns = [
    path("", index, name="index"),
    path("tab/<str:name>/", tab, name="tab"),
    path("export/<str:name>/<str:table>.<str:fmt>", export, name="export"),
    path("sessions/", sessions, name="sessions"),
    path("sessions/export.<str:fmt>", sessions_export, name="sessions-export"),
]
