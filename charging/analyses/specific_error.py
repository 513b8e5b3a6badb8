"""9. Specific error — search by MAC (or prefix): its success % and sessions; top 10 unidentified MAC
prefixes (first 3 bytes) with count and success %; search by code list and type: share of all
errors, matching sessions, per vehicle, per month and site, per site and charge point, drill-down
site → month → day → hour.

Own parameters: `mac` (a full MAC or its first digits, any separators), `codes` (comma-separated
integers), `code_type` (`EVI`, the default, or `DownStream`), `drill_site` (a site code),
`drill_month` (YYYY-MM) and `drill_day` (YYYY-MM-DD)."""

import calendar
import re
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.charge_points import limit_note, session_columns, session_list
from charging.analyses.sql import fetch, one, pct, scope, site_labels, with_failed
from charging.derivations import mac_digits
from charging.filters import Filters, InvalidFilter
from charging.vocabulary import FILTERABLE_TYPES, ErrorType

NAME = "specific-error"
TITLE = gettext_lazy("Specific error")
NOTES = [
    gettext_lazy("A failure whose error type or moment is not selected counts as OK, in the MAC's success rate too."),
    gettext_lazy(
        "A code matches errors of the chosen type only: an EVI code those reported by the EVI (Downstream "
        "code 0 or 8192), a Downstream code the others."
    ),
    gettext_lazy("Unidentified prefixes: the first 3 bytes of MACs that the MAC → vehicle table does not name."),
]
PARAMS: tuple[str, ...] = ("mac", "codes", "code_type", "drill_site", "drill_month", "drill_day")
PARAM_HELP = {
    "mac": gettext_lazy("A MAC address or its first digits, any separators (AA:BB:CC, aabbcc)."),
    "codes": gettext_lazy("Error codes, comma-separated integers."),
    "code_type": gettext_lazy("EVI (default) or DownStream: which code the codes are."),
    "drill_site": gettext_lazy("A site's code: its matching errors per month."),
    "drill_month": gettext_lazy("YYYY-MM: the drilled site's matching errors per day of that month."),
    "drill_day": gettext_lazy("YYYY-MM-DD: the drilled site's matching errors per hour of that day."),
}
FIGURES = {
    "mac": gettext_lazy("The MAC (or prefix) searched, as AA:BB:…; empty when none."),
    "mac_sessions": gettext_lazy("Sessions of that MAC or prefix."),
    "mac_ok": gettext_lazy("Of which counted as OK (a failure filtered out included)."),
    "mac_failed": gettext_lazy("Of which failures of the selected types and moments."),
    "success_pct": gettext_lazy("The MAC's success rate; null when no MAC is searched."),
    "codes": gettext_lazy("The codes searched."),
    "code_type": gettext_lazy("EVI or DownStream: which code the codes are."),
    "errors": gettext_lazy("Every failure of the selected types and moments."),
    "matching": gettext_lazy("Failures with one of the codes."),
    "share_pct": gettext_lazy("matching / errors × 100."),
    "drill_site": gettext_lazy("The drilled site's code."),
    "drill_month": gettext_lazy("The drilled month."),
    "drill_day": gettext_lazy("The drilled day."),
}


TOP_PREFIXES = 10
_MAC = re.compile(r"^[0-9A-Fa-f:\-. ]+$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# A MAC's hex digits: the import stores MACs upper case, with the source's separators.
_DIGITS = "translate(s.mac, ':-. ', '')"


def mac_text(digits: str) -> str:
    """ "AABBCC" → "AA:BB:CC"."""
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _params(filters: Filters) -> dict:
    """This analysis's own parameters, checked: InvalidFilter names each one to fix."""
    extra, errors = filters.extra, {}
    mac = extra.get("mac", "")
    if mac and not (_MAC.match(mac) and mac_digits(mac)):
        errors["mac"] = _("“%(value)s” is not a MAC address or the start of one.") % {"value": mac}
    codes = []
    for part in (p.strip() for p in extra.get("codes", "").split(",")):
        if not part:
            continue
        try:
            code = int(part)
        except ValueError:
            code = None
        if code is None or not -(2**31) <= code < 2**31:  # the codes are 32-bit integers
            errors["codes"] = _("Codes are whole numbers separated by commas.")
        else:
            codes.append(code)
    code_type = extra.get("code_type", "") or "EVI"
    if code_type not in FILTERABLE_TYPES:
        errors["code_type"] = _("Choose among: %s.") % ", ".join(FILTERABLE_TYPES)
    month = extra.get("drill_month", "")
    if month and not _MONTH.match(month):
        errors["drill_month"] = _("“%(value)s” is not a month: use YYYY-MM.") % {"value": month}
    day = None
    if extra.get("drill_day"):
        try:
            day = date.fromisoformat(extra["drill_day"])
        except ValueError:
            errors["drill_day"] = _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": extra["drill_day"]}
    if errors:
        raise InvalidFilter(errors)
    if day and not month:
        month = day.strftime("%Y-%m")
    return {"mac": mac_digits(mac), "codes": sorted(set(codes)), "code_type": code_type,
            "drill_site": extra.get("drill_site", ""), "drill_month": month, "drill_day": day}  # fmt: skip


def run(filters: Filters) -> Result:
    asked = _params(filters)
    where, params = scope(filters)
    figures: dict = {"mac": mac_text(asked["mac"]), "codes": asked["codes"], "code_type": asked["code_type"]}
    tables: list[Table] = []
    charts: list[Chart] = []
    notes = [str(note) for note in NOTES]

    # The MAC search.
    mac_rows, mac_count = [], 0
    mac_figures = {"mac_sessions": 0, "mac_ok": 0, "mac_failed": 0, "success_pct": None}
    if asked["mac"]:
        at_mac = f"{where} AND s.mac <> '' AND {_DIGITS} LIKE %(mac_prefix)s"
        mac_params = {**params, "mac_prefix": asked["mac"] + "%"}
        mac_rows, mac_count, mac_failed = session_list(at_mac, mac_params)
        mac_figures = {"mac_sessions": mac_count, "mac_ok": mac_count - mac_failed, "mac_failed": mac_failed,
                       "success_pct": pct(mac_count - mac_failed, mac_count)}  # fmt: skip
        if limit_note(len(mac_rows), mac_count):
            notes.append(limit_note(len(mac_rows), mac_count))
    figures.update(mac_figures)
    tables.append(Table(key="mac_sessions", title=_("Sessions of this MAC"), columns=session_columns(site=True),
                        rows=mac_rows, note=limit_note(len(mac_rows), mac_count)))  # fmt: skip

    # Every error of the scope, and the MAC prefixes no vehicle is known for (grouping only those
    # sessions: grouping them all in one pass sorted the whole period on disk).
    sql, query = with_failed(
        f"SELECT count(*) AS n FROM charging_chargingsession s WHERE {where} AND {{failed}}", params
    )
    errors = one(sql, query)["n"]
    sql, query = with_failed(
        f"SELECT substr({_DIGITS}, 1, 6) AS prefix, count(*) AS total, count(*) FILTER (WHERE {{failed}}) AS failed "
        f"FROM charging_chargingsession s WHERE {where} AND s.vehicle = '' AND s.mac <> '' "
        f"AND length({_DIGITS}) >= 6 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %(top)s",
        {**params, "top": TOP_PREFIXES},
    )
    found = fetch(sql, query)
    prefixes = []
    for r in found:
        ok = r["total"] - r["failed"]
        prefixes.append({"prefix": mac_text(r["prefix"]), "total": r["total"], "ok": ok, "failed": r["failed"],
                         "ok_pct": pct(ok, r["total"])})  # fmt: skip
    tables.append(
        Table(key="unknown_prefixes", title=_("Top 10 unidentified MAC prefixes"),
              columns=[Column("prefix", _("MAC prefix")), Column("total", _("Sessions"), "int"),
                       Column("ok", _("OK"), "int"), Column("failed", _("Failed"), "int"),
                       Column("ok_pct", _("% OK"), "pct")],
              rows=prefixes)
    )  # fmt: skip
    charts.append(Chart(key="unknown_prefixes", title=_("Top 10 unidentified MAC prefixes"), kind="bar",
                        labels=[p["prefix"] for p in prefixes],
                        datasets=[{"label": _("Sessions"), "data": [p["total"] for p in prefixes]}],
                        table="unknown_prefixes"))  # fmt: skip

    # The code search.
    error_type = FILTERABLE_TYPES[asked["code_type"]]
    code_column = "s.evi_code" if error_type == ErrorType.EVI else "s.downstream_code"
    matching_where = (
        f"{where} AND {{failed}} AND s.error_type = %(code_error_type)s AND coalesce({code_column}, 0) = ANY(%(codes)s)"
    )
    code_params = {**params, "code_error_type": error_type, "codes": asked["codes"]}
    groups, matching_rows, matching_count = [], [], 0
    if asked["codes"]:
        sql, query = with_failed(
            "SELECT s.site_id, cp.name AS charge_point, s.vehicle, s.local_date, s.local_hour, count(*) AS n "
            "FROM charging_chargingsession s JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
            f"WHERE {matching_where} GROUP BY 1, 2, 3, 4, 5",
            code_params,
        )
        groups = fetch(sql, query)
        matching_rows = session_list(matching_where, code_params, counted=False)[0]
        matching_count = sum(g["n"] for g in groups)
        if limit_note(len(matching_rows), matching_count):
            notes.append(limit_note(len(matching_rows), matching_count))
    matching = sum(g["n"] for g in groups)
    figures.update({"errors": errors, "matching": matching, "share_pct": pct(matching, errors)})
    labels = site_labels(g["site_id"] for g in groups)
    for g in groups:
        g["site"] = labels.get(g["site_id"], {}).get("site", "?")
        g["code"] = labels.get(g["site_id"], {}).get("code", "")
        g["month"] = g["local_date"].strftime("%Y-%m")

    tables.append(Table(key="matching_sessions", title=_("Matching errors"), columns=session_columns(site=True),
                        rows=matching_rows, note=limit_note(len(matching_rows), matching_count)))  # fmt: skip
    vehicles = _count(groups, ("vehicle",), matching)
    for v in vehicles:
        v["vehicle"] = v["vehicle"] or _("Unknown vehicle")
    vehicles.sort(key=lambda r: (-r["count"], r["vehicle"]))
    month_sites = sorted(_count(groups, ("month", "site"), matching), key=lambda r: (r["month"], r["site"]))
    points = sorted(_count(groups, ("site", "charge_point"), matching), key=lambda r: (-r["count"], r["site"],
                                                                                       r["charge_point"]))  # fmt: skip
    count_columns = [Column("count", _("Errors"), "int"), Column("pct", _("% of the matching errors"), "pct")]
    tables += [
        Table(key="vehicles", title=_("Matching errors per vehicle"),
              columns=[Column("vehicle", _("Vehicle")), *count_columns], rows=vehicles),
        Table(key="month_sites", title=_("Matching errors per month and site"),
              columns=[Column("month", _("Month")), Column("site", _("Site")), *count_columns], rows=month_sites),
        Table(key="charge_points", title=_("Matching errors per site and charge point"),
              columns=[Column("site", _("Site")), Column("charge_point", _("Charge point")), *count_columns],
              rows=points),
    ]  # fmt: skip
    months = sorted({r["month"] for r in month_sites})
    site_names = sorted({r["site"] for r in month_sites})
    per_month_site = {(r["month"], r["site"]): r["count"] for r in month_sites}
    charts += [
        Chart(key="vehicles", title=_("Matching errors per vehicle"), kind="bar",
              labels=[v["vehicle"] for v in vehicles],
              datasets=[{"label": _("Errors"), "data": [v["count"] for v in vehicles]}], table="vehicles"),
        Chart(key="month_sites", title=_("Matching errors per month and site"), kind="stacked-bar", labels=months,
              datasets=[{"label": site, "data": [per_month_site.get((m, site), 0) for m in months]}
                        for site in site_names], table="month_sites"),
    ]  # fmt: skip

    drill_tables, drill_figures = _drill(filters, asked, groups)
    figures.update(drill_figures)
    tables += drill_tables
    charts += [
        Chart(key=t.key, title=t.title, kind="bar", labels=[r[t.columns[0].key] for r in t.rows],
              datasets=[{"label": _("Errors"), "data": [r["count"] for r in t.rows]}], table=t.key)
        for t in drill_tables
    ]  # fmt: skip
    return Result(name=NAME, figures=figures, tables=tables, charts=charts, notes=notes)


def _count(groups: list[dict], keys: tuple[str, ...], whole: int) -> list[dict]:
    counts: dict[tuple, int] = {}
    for g in groups:
        key = tuple(g[k] for k in keys)
        counts[key] = counts.get(key, 0) + g["n"]
    return [{**dict(zip(keys, key, strict=True)), "count": n, "pct": pct(n, whole)} for key, n in counts.items()]


def _drill(filters: Filters, asked: dict, groups: list[dict]) -> tuple[list[Table], dict]:
    """Site → its months; → the days of one month; → the hours of one day. Every step of the period,
    errors or not."""
    site = asked["drill_site"]
    mine = [g for g in groups if g["code"] == site] if site else []
    month, day = asked["drill_month"], asked["drill_day"]
    figures = {"drill_site": site, "drill_month": month, "drill_day": day.isoformat() if day else ""}
    columns = [Column("count", _("Errors"), "int")]
    months, days, hours = [], [], []
    if site:
        per_month = {}
        for g in mine:
            per_month[g["month"]] = per_month.get(g["month"], 0) + g["n"]
        cursor = filters.d1.replace(day=1)
        while cursor <= filters.d2:
            key = cursor.strftime("%Y-%m")
            months.append({"month": key, "count": per_month.get(key, 0)})
            cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    if site and month:
        first = date.fromisoformat(month + "-01")
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        per_day = {}
        for g in mine:
            per_day[g["local_date"]] = per_day.get(g["local_date"], 0) + g["n"]
        cursor = max(first, filters.d1)
        while cursor <= min(last, filters.d2):
            days.append({"day": cursor.isoformat(), "count": per_day.get(cursor, 0)})
            cursor += timedelta(days=1)
    if site and day:
        per_hour = {}
        for g in mine:
            if g["local_date"] == day:
                per_hour[g["local_hour"]] = per_hour.get(g["local_hour"], 0) + g["n"]
        hours = [{"hour": hour, "count": per_hour.get(hour, 0)} for hour in range(24)]
    return [
        Table(key="drill_months", title=_("Matching errors per month"),
              columns=[Column("month", _("Month")), *columns], rows=months),
        Table(key="drill_days", title=_("Matching errors per day"),
              columns=[Column("day", _("Day"), "date"), *columns], rows=days),
        Table(key="drill_hours", title=_("Matching errors per start hour"),
              columns=[Column("hour", _("Hour"), "int"), *columns], rows=hours),
    ], figures  # fmt: skip
