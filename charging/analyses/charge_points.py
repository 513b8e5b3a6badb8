"""3. Charge-point details — one site, its charge points: failed sessions (type — moment, "SOC start%
→ end%", MAC, link to the session in the operator's console) and OK sessions; success % per charge
point; EVI errors by moment; occurrence tables Downstream code × moment (codes ∉ {0, 8192}) and EVI
code × moment.

Own parameter: `site` (a site code; default the first site by name among the filtered ones with
sessions in the period)."""

import zoneinfo
from datetime import UTC, tzinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, pct, rounded, scope, site_labels, with_failed
from charging.derivations import EVI_DOWNSTREAM_CODE
from charging.filters import Filters
from charging.models import ChargingSource
from charging.vocabulary import MOMENT_ORDER, ErrorType, Moment

NAME = "charge-points"
TITLE = gettext_lazy("Charge-point details")
NOTES = [
    gettext_lazy(
        "A failure whose error type or moment is not selected counts as OK: it is listed with the OK sessions."
    ),
    gettext_lazy("A Downstream code of 8192 means the EVI reported the error: it is counted as an EVI error."),
    gettext_lazy("EVI step 0, 3, -1 or above 8 counts as Fin de charge."),
]
PARAMS: tuple[str, ...] = ("site",)
PARAM_HELP = {
    "site": gettext_lazy("The site's code (default: the first by name with sessions in the period)."),
}
FIGURES = {
    "site": gettext_lazy("The site's code."),
    "site_name": gettext_lazy("The site's name."),
    "site_options": gettext_lazy("The sites with sessions in the period: code and name, by name."),
    "total": gettext_lazy("Sessions of the site."),
    "ok": gettext_lazy("Sessions counted as OK (a failure filtered out included)."),
    "failed": gettext_lazy("Failures of the selected types and moments."),
    "success_pct": gettext_lazy("OK / sessions × 100, rounded to 2 decimals."),
    "failed_listed": gettext_lazy("Failed sessions listed (the newest)."),
    "ok_listed": gettext_lazy("OK sessions listed (the newest)."),
    "row_limit": gettext_lazy("At most this many sessions are listed per table."),
}


ROW_LIMIT = 500  # sessions listed per table, newest first; the figures give the full counts

# The newest sessions first, limited before the joins; the window counts (when asked: they make
# PostgreSQL keep every matching session, not only the newest) see every matching session.
SESSION_SQL = (
    "SELECT x.*, cp.name AS charge_point FROM ("
    "SELECT s.external_id AS id, s.source_id, s.started_at, s.site_id, s.charge_point_id, s.is_ok, s.error_type, "
    "s.moment, s.soc_start, s.soc_end, s.mac, s.vehicle, s.evi_code, s.downstream_code, s.evi_step, s.energy_kwh, "
    "{failed} AS failed{counts} "
    "FROM charging_chargingsession s WHERE {where} ORDER BY s.started_at DESC, s.external_id LIMIT %(row_limit)s"
    ") AS x JOIN charging_chargepoint cp ON cp.id = x.charge_point_id ORDER BY x.started_at DESC, x.id"
)
_COUNTS = ", count(*) OVER () AS matching, count(*) FILTER (WHERE {failed}) OVER () AS matching_failed"


def soc_text(start: float | None, end: float | None) -> str:
    """ "20% → 80%", as the operators read it; empty when either end is missing."""
    if start is None or end is None:
        return ""
    return f"{round(start)}% → {round(end)}%"


def session_list(
    where: str, params: dict, *, limit: int | None = None, counted: bool = True
) -> tuple[list[dict], int | None, int | None]:
    """The newest `limit` sessions matching `where` (SQL on alias `s`, `{failed}` usable), each with
    its link to the operator's console (`id_url`, as `sql.session_link` gives it) and its start as its
    source's operators read it (local "YYYY-MM-DD HH:MM:SS", as `sql.local_time`); how many match in
    all, and how many of those failed (None unless `counted`)."""
    sql = SESSION_SQL.replace("{counts}", _COUNTS if counted else "").replace("{where}", where)
    sql, query = with_failed(sql, {**params, "row_limit": limit or ROW_LIMIT})
    found = fetch(sql, query)
    sources = {source.pk: source for source in ChargingSource.objects.filter(pk__in={r["source_id"] for r in found})}
    zones = {pk: _zone(source.time_zone) for pk, source in sources.items()}
    labels = site_labels(r["site_id"] for r in found)
    rows = []
    for r in found:
        source = sources.get(r["source_id"])
        rows.append({
            "id": r["id"], "id_url": source.session_link(r["id"]) if source else "",
            "start": r["started_at"].astimezone(zones.get(r["source_id"], UTC)).strftime("%Y-%m-%d %H:%M:%S"),
            "site": labels.get(r["site_id"], {}).get("site", "?"),
            "charge_point": r["charge_point"], "status": _("Failed") if r["failed"] else _("OK"),
            "error": "" if r["is_ok"] else f"{r['error_type']} — {r['moment']}",
            "soc": soc_text(r["soc_start"], r["soc_end"]), "energy_kwh": rounded(r["energy_kwh"]),
            "mac": r["mac"], "vehicle": r["vehicle"], "evi_code": r["evi_code"],
            "downstream_code": r["downstream_code"], "evi_step": r["evi_step"],
        })  # fmt: skip
    if not counted:
        return rows, None, None
    return rows, (found[0]["matching"] if found else 0), (found[0]["matching_failed"] if found else 0)


def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def session_columns(*, site: bool = False) -> list[Column]:
    return [
        Column("start", _("Start"), "datetime"),
        *([Column("site", _("Site"))] if site else []),
        Column("charge_point", _("Charge point")),
        Column("status", _("Status")),
        Column("error", _("Type — moment")),
        Column("soc", _("SOC start → end")),
        Column("energy_kwh", _("Energy (kWh)"), "float"),
        Column("mac", _("MAC")),
        Column("vehicle", _("Vehicle")),
        Column("evi_code", _("EVI code"), "int"),
        Column("downstream_code", _("Downstream code"), "int"),
        Column("id", _("ID"), "link"),
    ]


def limit_note(shown: int, total: int) -> str:
    if shown < total:
        return _("The newest %(shown)s of %(total)s sessions.") % {"shown": shown, "total": total}
    return ""


def code_by_moment(counts: list[dict], code_label: str, key: str, title: str) -> Table:
    """An occurrence table: one row per code, one column per moment present, the row's total and its
    share of the table's total, busiest code first, then a Total row."""
    moments = [m for m in MOMENT_ORDER if any(c["moment"] == m for c in counts)]
    per_code: dict[int, dict[str, int]] = {}
    for c in counts:
        by_moment = per_code.setdefault(c["code"], {})
        by_moment[c["moment"]] = by_moment.get(c["moment"], 0) + c["n"]
    whole = sum(c["n"] for c in counts)
    rows = []
    for code, by_moment in per_code.items():
        total = sum(by_moment.values())
        rows.append({"code": code, **{m: by_moment.get(m, 0) for m in moments}, "total": total,
                     "pct": pct(total, whole)})  # fmt: skip
    rows.sort(key=lambda r: (-r["total"], r["code"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    if rows:
        rows.append({"rank": None, "code": _("Total"), **{m: sum(r[m] for r in rows) for m in moments},
                     "total": whole, "pct": 100.0})  # fmt: skip
    return Table(
        key=key,
        title=title,
        columns=[Column("rank", _("Rank"), "int"), Column("code", code_label),
                 *[Column(m, str(Moment(m).label), "int") for m in moments],
                 Column("total", _("Total"), "int"), Column("pct", _("%"), "pct")],
        rows=rows,
    )  # fmt: skip


def site_choice(filters: Filters, where: str, params: dict) -> tuple[list[dict], dict | None]:
    """The sites with sessions in the filters' scope, by name ({"id", "site", "code"}), and the one the
    `site` parameter names, else the first."""
    # One index probe per site with charge points (site, local_date), not a pass over the period.
    present = fetch(
        "SELECT p.site_id FROM (SELECT DISTINCT site_id FROM charging_chargepoint) AS p WHERE EXISTS "
        f"(SELECT 1 FROM charging_chargingsession s WHERE s.site_id = p.site_id AND {where})",
        params,
    )
    labels = site_labels(r["site_id"] for r in present)
    options = sorted(({"id": pk, **label} for pk, label in labels.items()), key=lambda o: (o["site"], o["code"]))
    asked = filters.extra.get("site", "")
    chosen = next((o for o in options if o["code"] == asked), options[0] if options else None)
    return options, chosen


def run(filters: Filters) -> Result:
    where, params = scope(filters)
    options, site = site_choice(filters, where, {k: v for k, v in params.items() if k != "_failed"})
    at_site = f"{where} AND s.site_id = %(focus_site)s"
    params = {**params, "focus_site": site["id"] if site else 0}

    sql, query = with_failed(
        "SELECT cp.name AS charge_point, count(*) AS total, count(*) FILTER (WHERE {failed}) AS failed "
        "FROM charging_chargingsession s JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
        f"WHERE {at_site} GROUP BY cp.name",
        params,
    )
    points = []
    for r in fetch(sql, query):
        ok = r["total"] - r["failed"]
        points.append({"charge_point": r["charge_point"], "total": r["total"], "ok": ok, "failed": r["failed"],
                       "ok_pct": pct(ok, r["total"])})  # fmt: skip
    points.sort(key=lambda r: (r["ok_pct"], r["charge_point"]))
    total = sum(p["total"] for p in points)
    failed = sum(p["failed"] for p in points)

    # The newest sessions; how many there are is the charge points' sums above.
    failed_rows = session_list(f"{at_site} AND {{failed}}", params, counted=False)[0]
    ok_rows = session_list(f"{at_site} AND NOT {{failed}}", params, counted=False)[0]
    failed_count, ok_count = failed, total - failed

    # Failures per (type, moment, EVI code, Downstream code): the three tables below come from it.
    sql, query = with_failed(
        "SELECT s.error_type, s.moment, coalesce(s.evi_code, 0) AS evi, coalesce(s.downstream_code, 0) AS ds, "
        f"count(*) AS n FROM charging_chargingsession s WHERE {at_site} AND {{failed}} GROUP BY 1, 2, 3, 4",
        params,
    )
    failures = fetch(sql, query)
    evi_failures = [f for f in failures if f["error_type"] == ErrorType.EVI]
    evi_by_moment = {}
    for f in evi_failures:
        evi_by_moment[f["moment"]] = evi_by_moment.get(f["moment"], 0) + f["n"]
    evi_total = sum(evi_by_moment.values())
    evi_moments = [{"moment": str(Moment(m).label), "key": m, "failed": evi_by_moment[m],
                    "pct": pct(evi_by_moment[m], evi_total)} for m in MOMENT_ORDER if m in evi_by_moment]  # fmt: skip
    downstream = [{"code": f["ds"], "moment": f["moment"], "n": f["n"]} for f in failures
                  if f["ds"] not in (0, EVI_DOWNSTREAM_CODE)]  # fmt: skip
    evi_codes = [{"code": f["evi"], "moment": f["moment"], "n": f["n"]} for f in evi_failures]

    name = site["site"] if site else ""
    points_table = Table(
        key="charge_points",
        title=_("Charge points of %(site)s") % {"site": name},
        columns=[Column("charge_point", _("Charge point")), Column("total", _("Sessions"), "int"),
                 Column("ok", _("OK"), "int"), Column("failed", _("Failed"), "int"),
                 Column("ok_pct", _("% OK"), "pct")],
        rows=points,
    )  # fmt: skip
    evi_table = Table(
        key="evi_moments",
        title=_("EVI errors by moment"),
        columns=[Column("moment", _("Moment")), Column("failed", _("Failed"), "int"), Column("pct", _("%"), "pct")],
        rows=evi_moments,
    )
    return Result(
        name=NAME,
        figures={
            "site": site["code"] if site else "",
            "site_name": name,
            "site_options": [{"code": o["code"], "site": o["site"]} for o in options],
            "total": total,
            "ok": total - failed,
            "failed": failed,
            "success_pct": pct(total - failed, total),
            "failed_listed": len(failed_rows),
            "ok_listed": len(ok_rows),
            "row_limit": ROW_LIMIT,
        },
        tables=[
            points_table,
            Table(
                key="failed_sessions",
                title=_("Failed sessions"),
                columns=session_columns(),
                rows=failed_rows,
                note=limit_note(len(failed_rows), failed_count),
            ),
            Table(
                key="ok_sessions",
                title=_("OK sessions"),
                columns=session_columns(),
                rows=ok_rows,
                note=limit_note(len(ok_rows), ok_count),
            ),
            evi_table,
            code_by_moment(
                downstream,
                _("Downstream code"),
                "downstream_codes",
                _("Downstream code × moment (codes other than 0 and 8192)"),
            ),
            code_by_moment(evi_codes, _("EVI code"), "evi_codes", _("EVI code × moment")),
        ],
        charts=[
            Chart(
                key="charge_points",
                title=_("Success rate per charge point"),
                kind="bar",
                labels=[p["charge_point"] for p in points],
                datasets=[{"label": _("% OK"), "data": [p["ok_pct"] for p in points]}],
                table="charge_points",
            ),
            Chart(
                key="evi_moments",
                title=_("EVI errors by moment"),
                kind="pie",
                labels=[m["moment"] for m in evi_moments],
                datasets=[{"label": _("Failed"), "data": [m["failed"] for m in evi_moments]}],
                table="evi_moments",
            ),
        ],
        notes=[str(note) for note in NOTES]
        + [note for note in (limit_note(len(failed_rows), failed_count), limit_note(len(ok_rows), ok_count)) if note],
    )
