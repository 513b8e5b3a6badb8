"""8. Errors by moment — top 3 errors overall, top 3 EVI, top 3 Downstream, each keyed by (moment,
step, code, type) with % and a per-site breakdown; moment × code tables; per-site phase counts; pies
by type, moment and `moment_avancee`.

The code of an error is its EVI code for an EVI error, its Downstream code for a Downstream one."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.charge_points import code_by_moment
from charging.analyses.sql import fetch, pct, scope, site_labels, with_failed
from charging.filters import Filters
from charging.vocabulary import MOMENT_GROUP_ORDER, MOMENT_ORDER, ErrorType, Moment, MomentGroup

NAME = "errors-by-moment"
TITLE = gettext_lazy("Errors by moment")
NOTES = [
    gettext_lazy("A failure whose error type or moment is not selected is not counted: it counts as OK."),
    gettext_lazy("A Downstream code of 8192 means the EVI reported the error: it is an EVI error, by its EVI code."),
    gettext_lazy("EVI step 0, 3, -1 or above 8 counts as Fin de charge."),
]
PARAMS: tuple[str, ...] = ()
FIGURES = {
    "total": gettext_lazy("Sessions."),
    "failed": gettext_lazy("Failures of the selected types and moments."),
    "failed_evi": gettext_lazy("Of which EVI errors."),
    "failed_downstream": gettext_lazy("Of which Downstream errors."),
    "success_pct": gettext_lazy("(Sessions − failures) / sessions × 100."),
}


TOP = 3
_PHASES = [MomentGroup.BEFORE_CHARGE.value, MomentGroup.CHARGE.value, MomentGroup.END_OF_CHARGE.value]
_TYPES = [ErrorType.EVI.value, ErrorType.DOWNSTREAM.value]


def _sort_key(key: tuple) -> tuple:
    moment, step, code, error_type = key
    order = MOMENT_ORDER.index(moment) if moment in MOMENT_ORDER else len(MOMENT_ORDER)
    return (order, -999 if step is None else step, code, error_type)


def top_errors(groups: list[dict], *, limit: int = TOP) -> tuple[list[dict], list[dict]]:
    """The most frequent (moment, step, code, type) of these failure groups, each with its share of
    them; and, for those, the count per site (busiest first)."""
    counts: dict[tuple, int] = {}
    per_site: dict[tuple, dict[str, int]] = {}
    for g in groups:
        key = (g["moment"], g["step"], g["code"], g["error_type"])
        counts[key] = counts.get(key, 0) + g["n"]
        sites = per_site.setdefault(key, {})
        sites[g["site"]] = sites.get(g["site"], 0) + g["n"]
    whole = sum(counts.values())
    ranked = sorted(counts, key=lambda key: (-counts[key], _sort_key(key)))[:limit]
    top, breakdown = [], []
    for rank, key in enumerate(ranked, 1):
        moment, step, code, error_type = key
        described = {"rank": rank, "moment": str(Moment(moment).label), "moment_key": moment, "step": step,
                     "code": code, "type": error_type}  # fmt: skip
        top.append({**described, "count": counts[key], "pct": pct(counts[key], whole)})
        for site, n in sorted(per_site[key].items(), key=lambda item: (-item[1], item[0])):
            breakdown.append({**described, "site": site, "count": n, "pct": pct(n, counts[key])})
    return top, breakdown


def _top_tables(key: str, title: str, groups: list[dict]) -> list[Table]:
    top, breakdown = top_errors(groups)
    described = [Column("rank", _("Rank"), "int"), Column("moment", _("Moment")), Column("step", _("Step"), "int"),
                 Column("code", _("Code"), "int"), Column("type", _("Type"))]  # fmt: skip
    return [
        Table(key=key, title=title, columns=[*described, Column("count", _("Failed"), "int"),
                                             Column("pct", _("% of these errors"), "pct")], rows=top),
        Table(key=f"{key}_sites", title=_("%(title)s: per site") % {"title": title},
              columns=[*described, Column("site", _("Site")), Column("count", _("Failed"), "int"),
                       Column("pct", _("% of this error"), "pct")], rows=breakdown),
    ]  # fmt: skip


def _count_table(key: str, column: Column, title: str, counts: dict[str, int], order: list[str], names) -> Table:
    """Failures per value of one field (a pie's table), in the field's display order."""
    whole = sum(counts.values())
    rows = [{column.key: str(names(value)), "key": value, "failed": counts[value], "pct": pct(counts[value], whole)}
            for value in order if counts.get(value)]  # fmt: skip
    return Table(key=key, title=title, rows=rows,
                 columns=[column, Column("failed", _("Failed"), "int"), Column("pct", _("%"), "pct")])  # fmt: skip


def run(filters: Filters) -> Result:
    # Both from the days pre-aggregate (charging.rollups), which keeps the failures' steps and codes.
    where, params = scope(filters)
    sql, query = with_failed(
        "SELECT s.site_id, s.error_type, s.moment, s.moment_group, s.evi_step AS step, "
        "CASE WHEN s.error_type = %(evi_type)s THEN coalesce(s.evi_code, 0) ELSE coalesce(s.downstream_code, 0) END "
        f"AS code, sum(s.sessions) AS n FROM charging_chargingday s WHERE {where} AND {{failed}} "
        "GROUP BY 1, 2, 3, 4, 5, 6",
        {**params, "evi_type": ErrorType.EVI.value},
    )
    groups = fetch(sql, query)
    sql, query = with_failed(
        "SELECT s.site_id, sum(s.sessions) AS total, coalesce(sum(s.sessions) FILTER (WHERE {failed}), 0) AS failed "
        f"FROM charging_chargingday s WHERE {where} GROUP BY 1",
        params,
    )
    per_site = fetch(sql, query)
    labels = site_labels(r["site_id"] for r in per_site)
    for g in groups:
        g["site"] = labels.get(g["site_id"], {}).get("site", "?")
    evi = [g for g in groups if g["error_type"] == ErrorType.EVI]
    downstream = [g for g in groups if g["error_type"] == ErrorType.DOWNSTREAM]

    phases: dict[int, dict[str, int]] = {}
    by_type: dict[str, int] = {}
    by_moment: dict[str, int] = {}
    by_group: dict[str, int] = {}
    for g in groups:
        site = phases.setdefault(g["site_id"], {})
        site[g["moment_group"]] = site.get(g["moment_group"], 0) + g["n"]
        by_type[g["error_type"]] = by_type.get(g["error_type"], 0) + g["n"]
        by_moment[g["moment"]] = by_moment.get(g["moment"], 0) + g["n"]
        by_group[g["moment_group"]] = by_group.get(g["moment_group"], 0) + g["n"]
    phase_rows = []
    for r in per_site:
        ok = r["total"] - r["failed"]
        counts = phases.get(r["site_id"], {})
        phase_rows.append({
            **labels.get(r["site_id"], {"site": "?", "code": ""}), "total": r["total"], "ok": ok,
            "failed": r["failed"], **{phase: counts.get(phase, 0) for phase in _PHASES},
            "ok_pct": pct(ok, r["total"]), "failed_pct": pct(r["failed"], r["total"]),
        })  # fmt: skip
    phase_rows.sort(key=lambda r: (-r["failed"], r["site"]))

    def codes(rows: list[dict]) -> list[dict]:
        return [{"code": g["code"], "moment": g["moment"], "n": g["n"]} for g in rows]

    type_table = _count_table("types", Column("type", _("Type")), _("Failures by type"), by_type, _TYPES, str)
    moment_table = _count_table("moments", Column("moment", _("Moment")), _("Failures by moment"), by_moment,
                                MOMENT_ORDER, lambda v: Moment(v).label)  # fmt: skip
    group_table = _count_table("moment_groups", Column("moment_group", _("Phase")), _("Failures by phase"),
                               by_group, MOMENT_GROUP_ORDER, lambda v: MomentGroup(v).label)  # fmt: skip
    total = sum(r["total"] for r in per_site)
    failed = sum(g["n"] for g in groups)
    return Result(
        name=NAME,
        figures={
            "total": total,
            "failed": failed,
            "failed_evi": sum(g["n"] for g in evi),
            "failed_downstream": sum(g["n"] for g in downstream),
            "success_pct": pct(total - failed, total),
        },
        tables=[
            *_top_tables("top_all", _("Top 3 errors"), groups),
            *_top_tables("top_evi", _("Top 3 EVI errors"), evi),
            *_top_tables("top_downstream", _("Top 3 Downstream errors"), downstream),
            code_by_moment(codes(evi), _("EVI code"), "evi_codes", _("EVI code × moment")),
            code_by_moment(codes(downstream), _("Downstream code"), "downstream_codes", _("Downstream code × moment")),
            Table(
                key="phases",
                title=_("Failures per site and phase"),
                columns=[
                    Column("site", _("Site")),
                    Column("total", _("Sessions"), "int"),
                    Column("ok", _("OK"), "int"),
                    Column("failed", _("Failed"), "int"),
                    *[Column(p, str(MomentGroup(p).label), "int") for p in _PHASES],
                    Column("ok_pct", _("% OK"), "pct"),
                    Column("failed_pct", _("% failed"), "pct"),
                ],
                rows=phase_rows,
            ),
            type_table,
            moment_table,
            group_table,
        ],
        charts=[_pie(type_table, "type"), _pie(moment_table, "moment"), _pie(group_table, "moment_group")],
        notes=[str(note) for note in NOTES],
    )


def _pie(table: Table, label_key: str) -> Chart:
    return Chart(
        key=table.key,
        title=table.title,
        kind="pie",
        labels=[r[label_key] for r in table.rows],
        datasets=[{"label": _("Failed"), "data": [r["failed"] for r in table.rows]}],
        table=table.key,
    )
