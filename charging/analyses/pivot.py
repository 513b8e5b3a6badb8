"""5. Pivot projection — failed sessions, EVI and Downstream separately, for up to two sites: a site
TOTAL row then one row per charge point; columns step × code (grouped by moment); row totals and %
with colour buckets.

Own parameters: `site` (default the first site by name among the filtered ones with sessions) and
`site2` (optional). Every cell carries its shade, 0 (none) to 4 (the most), in the row's `buckets`,
and each row the shade of its % in `bucket`: the page shades and still shows the number."""

import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.charge_points import site_choice
from charging.analyses.sql import fetch, pct, scope, with_failed
from charging.filters import Filters
from charging.vocabulary import MOMENT_ORDER, ErrorType, Moment

NAME = "pivot"
TITLE = gettext_lazy("Pivot projection")
NOTES = [
    gettext_lazy("A failure whose error type or moment is not selected is not shown: it counts as OK."),
    gettext_lazy(
        "A Downstream code of 8192 means the EVI reported the error: it is in the EVI table, by its EVI code."
    ),
    gettext_lazy("EVI step 0, 3, -1 or above 8 counts as Fin de charge."),
    gettext_lazy(
        "Shades go from 0 (none) to 4: a cell against the largest cell of the charge points (a TOTAL row "
        "against the largest TOTAL cell), the % in quarters."
    ),
]
PARAMS: tuple[str, ...] = ("site", "site2")
PARAM_HELP = {
    "site": gettext_lazy("The first site's code (default: the first by name with sessions in the period)."),
    "site2": gettext_lazy("A second site's code (optional)."),
}
FIGURES = {
    "site": gettext_lazy("The first site's code."),
    "site2": gettext_lazy("The second site's code, if any."),
    "site_options": gettext_lazy("The sites with sessions in the period: code and name, by name."),
    "failed_evi": gettext_lazy("EVI failures of the sites shown."),
    "failed_downstream": gettext_lazy("Downstream failures of the sites shown."),
    "evi_columns": gettext_lazy("The EVI table's columns: key, moment, step, code, label."),
    "downstream_columns": gettext_lazy("The Downstream table's columns: key, moment, step, code, label."),
}


_KINDS = [("evi", ErrorType.EVI.value, "s.evi_code"), ("downstream", ErrorType.DOWNSTREAM.value, "s.downstream_code")]


def bucket(value: float, largest: float) -> int:
    """0 for nothing, else 1 to 4 by quarters of the largest."""
    if not value or not largest:
        return 0
    return min(4, math.ceil(4 * value / largest))


def _column_key(step: int | None, code: int) -> str:
    return f"s{'' if step is None else step}_c{code}"


def run(filters: Filters) -> Result:
    where, params = scope(filters)
    options, first = site_choice(filters, where, {k: v for k, v in params.items() if k != "_failed"})
    by_code = {o["code"]: o for o in options}
    chosen = [first] if first else []
    if first and filters.extra.get("site2") in by_code and filters.extra["site2"] != first["code"]:
        chosen.append(by_code[filters.extra["site2"]])
    params = {**params, "pivot_sites": [site["id"] for site in chosen]}

    sql, query = with_failed(
        "SELECT s.site_id, cp.name AS charge_point, count(*) AS total, count(*) FILTER (WHERE {failed}) AS failed "
        "FROM charging_chargingsession s JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
        f"WHERE {where} AND s.site_id = ANY(%(pivot_sites)s) GROUP BY 1, 2",
        params,
    )
    points = fetch(sql, query)
    sql, query = with_failed(
        "SELECT s.site_id, cp.name AS charge_point, s.error_type, s.moment, s.evi_step AS step, "
        "CASE WHEN s.error_type = %(evi_type)s THEN coalesce(s.evi_code, 0) ELSE coalesce(s.downstream_code, 0) END "
        "AS code, count(*) AS n "
        "FROM charging_chargingsession s JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
        f"WHERE {where} AND {{failed}} AND s.site_id = ANY(%(pivot_sites)s) GROUP BY 1, 2, 3, 4, 5, 6",
        {**params, "evi_type": ErrorType.EVI.value},
    )
    cells = fetch(sql, query)

    figures = {
        "site": chosen[0]["code"] if chosen else "",
        "site2": chosen[1]["code"] if len(chosen) > 1 else "",
        "site_options": [{"code": o["code"], "site": o["site"]} for o in options],
    }
    tables, charts = [], []
    for key, error_type, _code in _KINDS:
        table, columns = _pivot(key, error_type, chosen, points, [c for c in cells if c["error_type"] == error_type])
        figures[f"failed_{key}"] = sum(r["total"] for r in table.rows if r["row"] == "total")
        figures[f"{key}_columns"] = columns
        tables.append(table)
        totals = [r for r in table.rows if r["row"] == "total"]
        charts.append(
            Chart(
                key=key,
                title=table.title,
                kind="stacked-bar",
                labels=[c["label"] for c in columns],
                datasets=[{"label": r["site"], "data": [r[c["key"]] for c in columns]} for r in totals],
                table=key,
            )
        )
    site_rows = []
    for site in chosen:
        mine = [p for p in points if p["site_id"] == site["id"]]
        total, failed = sum(p["total"] for p in mine), sum(p["failed"] for p in mine)
        site_rows.append({"site": site["site"], "code": site["code"], "total": total, "failed": failed,
                          "ok_pct": pct(total - failed, total)})  # fmt: skip
    tables.append(
        Table(
            key="sites",
            title=_("Sites"),
            columns=[
                Column("site", _("Site")),
                Column("total", _("Sessions"), "int"),
                Column("failed", _("Failed"), "int"),
                Column("ok_pct", _("% OK"), "pct"),
            ],
            rows=site_rows,
        )
    )
    return Result(name=NAME, figures=figures, tables=tables, charts=charts, notes=[str(note) for note in NOTES])


def _pivot(key: str, error_type: str, sites: list[dict], points: list[dict], cells: list[dict]):
    """The table of one error type: per site a TOTAL row then its charge points, by name."""
    order = {moment: index for index, moment in enumerate(MOMENT_ORDER)}
    combos = sorted(
        {(c["moment"], c["step"], c["code"]) for c in cells},
        key=lambda m: (order.get(m[0], len(order)), m[1] if m[1] is not None else -999, m[2]),
    )
    columns = [
        {"key": _column_key(step, code), "moment": moment, "step": step, "code": code,
         "label": f"{Moment(moment).label} · {step} · {code}"}
        for moment, step, code in combos
    ]  # fmt: skip
    count = {(c["site_id"], c["charge_point"], _column_key(c["step"], c["code"])): c["n"] for c in cells}
    rows = []
    for site in sites:
        names = sorted({p["charge_point"] for p in points if p["site_id"] == site["id"]})
        point_rows = []
        for name in names:
            values = {c["key"]: count.get((site["id"], name, c["key"]), 0) for c in columns}
            point_rows.append({"site": site["site"], "row": "point", "label": name, **values,
                               "total": sum(values.values())})  # fmt: skip
        totals = {c["key"]: sum(r[c["key"]] for r in point_rows) for c in columns}
        site_total = sum(totals.values())
        rows.append({"site": site["site"], "row": "total", "label": _("%(site)s (TOTAL)") % {"site": site["site"]},
                     **totals, "total": site_total})  # fmt: skip
        rows.extend(point_rows)
        for row in [rows[-len(point_rows) - 1], *point_rows]:
            row["pct"] = pct(row["total"], site_total) if row["row"] == "point" else (100.0 if site_total else 0.0)
            row["bucket"] = bucket(row["pct"], 100)
    for kind in ("total", "point"):
        largest = max((r[c["key"]] for r in rows if r["row"] == kind for c in columns), default=0)
        for r in rows:
            if r["row"] == kind:
                r["buckets"] = {c["key"]: bucket(r[c["key"]], largest) for c in columns}
    title = _("EVI errors") if key == "evi" else _("Downstream errors")
    table = Table(
        key=key,
        title=title,
        columns=[Column("label", _("Site / charge point")),
                 *[Column(c["key"], c["label"], "int") for c in columns],
                 Column("total", _("Total"), "int"), Column("pct", _("%"), "pct"),
                 Column("bucket", _("Shade (0–4)"), "int")],
        rows=rows,
    )  # fmt: skip
    return table, [{**c, "label": str(c["label"])} for c in columns]
