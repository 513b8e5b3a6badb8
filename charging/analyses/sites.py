"""2. Site comparison — per site OK/failed counts and %; per site the peak start hour and the weighted
median hour; heatmap site × hour of day; zoom on a site: OK vs failed per month, then per day of a
chosen month.

Own parameters: `site` (the zoomed site's code; default the busiest site) and `month` (YYYY-MM;
default the last month of the period with sessions at that site)."""

import calendar
import re
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, pct, scope, site_labels, with_failed
from charging.filters import Filters, InvalidFilter

NAME = "sites"
TITLE = gettext_lazy("Site comparison")
NOTES = [
    gettext_lazy(
        "A failure whose error type or moment is not selected counts as OK: it is not dropped from the total."
    ),
    gettext_lazy(
        "Hours are the local start hour. The median hour is weighted by sessions: the first hour by which "
        "half of the site's sessions have started."
    ),
]
PARAMS: tuple[str, ...] = ("site", "month")
PARAM_HELP = {
    "site": gettext_lazy("The code of the site to zoom on (default: the busiest)."),
    "month": gettext_lazy("The month to show day by day, YYYY-MM (default: the zoomed site's last)."),
}
FIGURES = {
    "sites": gettext_lazy("Sites with sessions in the period."),
    "total": gettext_lazy("Sessions."),
    "ok": gettext_lazy("Sessions counted as OK (a failure filtered out included)."),
    "failed": gettext_lazy("Failures of the selected types and moments."),
    "success_pct": gettext_lazy("OK / sessions × 100, rounded to 2 decimals."),
    "site": gettext_lazy("The zoomed site's code."),
    "month": gettext_lazy("The zoomed month (YYYY-MM)."),
    "site_options": gettext_lazy("The sites one can zoom on: code and name, busiest first."),
    "month_options": gettext_lazy("The months of the zoomed site."),
}


HOURS = list(range(24))
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def peak_hour(counts: dict[int, int]) -> int | None:
    """The hour with the most sessions (the earliest of equals)."""
    return min(counts, key=lambda hour: (-counts[hour], hour)) if counts else None


def weighted_median_hour(counts: dict[int, int]) -> int | None:
    """The first hour, in clock order, by which half of the sessions have started."""
    half = sum(counts.values()) / 2
    running = 0
    for hour in sorted(counts):
        running += counts[hour]
        if running >= half and counts[hour]:
            return hour
    return None


def _month_param(filters: Filters) -> str:
    month = filters.extra.get("month", "")
    if month and not _MONTH.match(month):
        raise InvalidFilter({"month": _("“%(value)s” is not a month: use YYYY-MM.") % {"value": month}})
    return month


def _ok_failed_row(key: str, value: str, total: int, failed: int) -> dict:
    ok = total - failed
    return {key: value, "total": total, "ok": ok, "failed": failed, "ok_pct": pct(ok, total),
            "failed_pct": pct(failed, total)}  # fmt: skip


def run(filters: Filters) -> Result:
    month_asked = _month_param(filters)
    where, params = scope(filters)
    sql, query = with_failed(
        "SELECT s.site_id, s.local_hour, count(*) AS total, count(*) FILTER (WHERE {failed}) AS failed "
        f"FROM charging_chargingsession s WHERE {where} GROUP BY s.site_id, s.local_hour",
        params,
    )
    by_hour = fetch(sql, query)
    labels = site_labels(row["site_id"] for row in by_hour)
    hours: dict[int, dict[int, int]] = {}
    totals: dict[int, list[int]] = {}
    for row in by_hour:
        hours.setdefault(row["site_id"], {})[row["local_hour"]] = row["total"]
        site_total = totals.setdefault(row["site_id"], [0, 0])
        site_total[0] += row["total"]
        site_total[1] += row["failed"]

    rows = []
    for site_id, (total, failed) in totals.items():
        label = labels.get(site_id, {"site": "?", "code": ""})
        counts = hours[site_id]
        peak = peak_hour(counts)
        rows.append({
            **_ok_failed_row("site", label["site"], total, failed), "code": label["code"], "site_id": site_id,
            "peak_hour": peak, "peak_sessions": counts[peak], "median_hour": weighted_median_hour(counts),
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["total"], r["site"]))
    heatmap_rows = [
        {"site": r["site"], "code": r["code"], **{f"h{hour}": hours[r["site_id"]].get(hour, 0) for hour in HOURS}}
        for r in sorted(rows, key=lambda r: r["site"])
    ]

    # The zoom: one site, OK vs failed per month of the period, then per day of one month.
    by_code = {r["code"]: r for r in rows}
    focus = by_code.get(filters.extra.get("site", "")) or (rows[0] if rows else None)
    monthly, daily, month = [], [], ""
    if focus:
        sql, query = with_failed(
            "SELECT to_char(s.local_date, 'YYYY-MM') AS month, count(*) AS total, "
            "count(*) FILTER (WHERE {failed}) AS failed "
            f"FROM charging_chargingsession s WHERE {where} AND s.site_id = %(focus_site)s GROUP BY 1 ORDER BY 1",
            {**params, "focus_site": focus["site_id"]},
        )
        monthly = [_ok_failed_row("month", r["month"], r["total"], r["failed"]) for r in fetch(sql, query)]
        months = [r["month"] for r in monthly]
        month = month_asked if month_asked in months else (months[-1] if months else "")
        if month:
            daily = _daily(filters, where, params, focus["site_id"], month)
    for r in rows:
        del r["site_id"]

    total = sum(r["total"] for r in rows)
    failed = sum(r["failed"] for r in rows)
    ok_failed_columns = [Column("total", _("Sessions"), "int"), Column("ok", _("OK"), "int"),
                         Column("failed", _("Failed"), "int"), Column("ok_pct", _("% OK"), "pct"),
                         Column("failed_pct", _("% failed"), "pct")]  # fmt: skip
    sites_table = Table(
        key="sites",
        title=_("Per site"),
        columns=[
            Column("site", _("Site")), *ok_failed_columns,
            Column("peak_hour", _("Peak start hour"), "int"), Column("peak_sessions", _("Sessions at the peak"), "int"),
            Column("median_hour", _("Weighted median hour"), "int"),
        ],
        rows=rows,
    )  # fmt: skip
    heatmap_table = Table(
        key="heatmap",
        title=_("Sessions per site and start hour"),
        columns=[Column("site", _("Site")), *[Column(f"h{hour}", f"{hour:02d}h", "int") for hour in HOURS]],
        rows=heatmap_rows,
    )
    focus_name = focus["site"] if focus else ""
    monthly_table = Table(
        key="monthly",
        title=_("%(site)s: per month") % {"site": focus_name},
        columns=[Column("month", _("Month")), *ok_failed_columns],
        rows=monthly,
    )
    daily_table = Table(
        key="daily",
        title=_("%(site)s: per day of %(month)s") % {"site": focus_name, "month": month},
        columns=[Column("day", _("Day"), "date"), *ok_failed_columns],
        rows=daily,
    )
    return Result(
        name=NAME,
        figures={
            "sites": len(rows),
            "total": total,
            "ok": total - failed,
            "failed": failed,
            "success_pct": pct(total - failed, total),
            "site": focus["code"] if focus else "",
            "month": month,
            "site_options": [{"code": r["code"], "site": r["site"]} for r in rows],
            "month_options": [r["month"] for r in monthly],
        },
        tables=[sites_table, heatmap_table, monthly_table, daily_table],
        charts=[
            _ok_failed_chart("counts", _("OK and failed sessions per site"), [r["site"] for r in rows], rows, "sites"),
            Chart(
                key="percent",
                title=_("Success and failure rate per site"),
                kind="stacked-bar",
                labels=[r["site"] for r in rows],
                datasets=[
                    {"label": _("% OK"), "data": [r["ok_pct"] for r in rows]},
                    {"label": _("% failed"), "data": [r["failed_pct"] for r in rows]},
                ],
                table="sites",
            ),
            Chart(
                key="heatmap",
                title=_("Sessions per site and start hour"),
                kind="heatmap",
                labels=HOURS,
                datasets=[{"label": r["site"], "data": [r[f"h{hour}"] for hour in HOURS]} for r in heatmap_rows],
                table="heatmap",
            ),
            _ok_failed_chart("monthly", monthly_table.title, [r["month"] for r in monthly], monthly, "monthly"),
            _ok_failed_chart("daily", daily_table.title, [r["day"] for r in daily], daily, "daily"),
        ],
        notes=[str(note) for note in NOTES],
    )


def _daily(filters: Filters, where: str, params: dict, site_id: int, month: str) -> list[dict]:
    """Every day of the month that is in the period, sessions or not."""
    first = date.fromisoformat(month + "-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    first, last = max(first, filters.d1), min(last, filters.d2)
    sql, query = with_failed(
        "SELECT s.local_date AS day, count(*) AS total, count(*) FILTER (WHERE {failed}) AS failed "
        f"FROM charging_chargingsession s WHERE {where} AND s.site_id = %(focus_site)s "
        "AND s.local_date >= %(month_first)s AND s.local_date <= %(month_last)s GROUP BY 1",
        {**params, "focus_site": site_id, "month_first": first, "month_last": last},
    )
    found = {r["day"]: r for r in fetch(sql, query)}
    days = []
    day = first
    while day <= last:
        r = found.get(day, {"total": 0, "failed": 0})
        days.append(_ok_failed_row("day", day.isoformat(), r["total"], r["failed"]))
        day += timedelta(days=1)
    return days


def _ok_failed_chart(key: str, title: str, labels: list, rows: list[dict], table: str) -> Chart:
    return Chart(
        key=key,
        title=title,
        kind="stacked-bar",
        labels=labels,
        datasets=[{"label": _("OK"), "data": [r["ok"] for r in rows]},
                  {"label": _("Failed"), "data": [r["failed"] for r in rows]}],
        table=table,
    )  # fmt: skip
