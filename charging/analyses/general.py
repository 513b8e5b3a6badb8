"""1. General — total, OK, failed, success and failure %; per site: total, OK, failed, failures per
`moment_avancee`, % OK, % failed, sorted by failures; failures by moment (pie)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, pct, scope, site_labels, with_failed
from charging.filters import Filters
from charging.vocabulary import MOMENT_ORDER, Moment, MomentGroup

NAME = "general"
TITLE = gettext_lazy("General")
NOTES = [
    gettext_lazy(
        "A failure whose error type or moment is not selected counts as OK: it is not dropped from the total."
    ),
]
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "total": "Sessions in the sites and period.",
    "ok": "OK sessions (a failure filtered out counts as OK).",
    "failed": "Failures whose type and moment are selected.",
    "success_pct": "OK / total × 100, 2 decimals.",
    "failure_pct": "failed / total × 100, 2 decimals.",
}


_GROUPS = [MomentGroup.BEFORE_CHARGE, MomentGroup.CHARGE, MomentGroup.END_OF_CHARGE]


def run(filters: Filters) -> Result:
    # One pass over the days pre-aggregate (charging.rollups): sessions per site, moment, phase and
    # whether they count as failed under the filters; the per-site and per-moment figures add them up.
    where, params = scope(filters)
    sql, params = with_failed(
        f"SELECT s.site_id, s.moment, s.moment_group, {{failed}} AS failed, sum(s.sessions) AS n "
        f"FROM charging_chargingday s WHERE {where} GROUP BY 1, 2, 3, 4",
        params,
    )
    per_site: dict[int, dict] = {}
    by_moment: dict[str, int] = {}
    for group in fetch(sql, params):
        site = per_site.setdefault(group["site_id"], {"total": 0, "failed": 0, **{g.value: 0 for g in _GROUPS}})
        site["total"] += group["n"]
        if group["failed"]:
            site["failed"] += group["n"]
            if group["moment_group"] in site:
                site[group["moment_group"]] += group["n"]
            by_moment[group["moment"]] = by_moment.get(group["moment"], 0) + group["n"]
    labels = site_labels(per_site)
    rows = []
    for site_id, row in per_site.items():
        ok = row["total"] - row["failed"]
        rows.append({
            **labels.get(site_id, {"site": "?", "code": ""}),
            "total": row["total"], "ok": ok, "failed": row["failed"],
            **{group.value: row[group.value] for group in _GROUPS},
            "ok_pct": pct(ok, row["total"]), "failed_pct": pct(row["failed"], row["total"]),
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["failed"], r["site"]))
    moments = [{"moment": Moment(m).label, "key": m, "failed": by_moment[m]} for m in MOMENT_ORDER if m in by_moment]

    total = sum(r["total"] for r in rows)
    failed = sum(r["failed"] for r in rows)
    sites_table = Table(
        key="sites",
        title=_("Per site"),
        columns=[
            Column("site", _("Site")), Column("total", _("Sessions"), "int"), Column("ok", _("OK"), "int"),
            Column("failed", _("Failed"), "int"),
            *[Column(group.value, _("Failed: %(moment)s") % {"moment": group.label}, "int") for group in _GROUPS],
            Column("ok_pct", _("% OK"), "pct"), Column("failed_pct", _("% failed"), "pct"),
        ],
        rows=rows,
    )  # fmt: skip
    moments_table = Table(
        key="moments",
        title=_("Failures by moment"),
        columns=[Column("moment", _("Moment")), Column("failed", _("Failed"), "int")],
        rows=moments,
    )
    return Result(
        name=NAME,
        figures={
            "total": total,
            "ok": total - failed,
            "failed": failed,
            "success_pct": pct(total - failed, total),
            "failure_pct": pct(failed, total),
        },
        tables=[sites_table, moments_table],
        charts=[
            Chart(
                key="moments",
                title=_("Failures by moment"),
                kind="pie",
                labels=[m["moment"] for m in moments],
                datasets=[{"label": _("Failed"), "data": [m["failed"] for m in moments]}],
                table="moments",
            ),
        ],
        notes=[str(note) for note in NOTES],
    )
