"""0. Overview — the active faults of the selected sites whatever the period (card red > 5, amber > 0;
"charge points only"; the sites with a fault less than 24 h old; a fault older than 7 days stands
out); the period's suspicious sessions, multiple-attempt groups and recurring-error alerts (red
> 10); top 5 sites by alerts; the 10 busiest sites ranked by success rate; top 10 sites by failures.

Every figure comes from the analysis that owns it (faults, suspicious, multiple attempts, alerts,
general): the overview runs no SQL of its own."""

from collections import Counter
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses import faults, general, multiple_attempts, recurring_errors, suspicious
from charging.analyses.base import Chart, Column, Result, Table
from charging.filters import Filters

NAME = "overview"
TITLE = gettext_lazy("Overview")
NOTES = [
    gettext_lazy("Active faults are those with no end date, whatever the period chosen."),
    gettext_lazy("Success rates count a failure whose error type or moment is not selected as OK."),
]
PARAMS: tuple[str, ...] = ("charge_points_only",)

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "active_faults": "Faults without an end date, whatever the period.",
    "active_faults_level": "red above 5, amber above 0, else green.",
    "suspicious": "OK sessions under 1 kWh in the period.",
    "multiple_attempts": "Groups of 2+ sessions of one MAC in one clock hour at one site.",
    "alerts": "Recurring-error alerts in the period.",
    "alerts_level": "red above 10, amber above 0, else green.",
}
PARAM_HELP = {
    "charge_points_only": gettext_lazy("Only the faults of charge points (equipment PDC…)."),
}


RECENT = timedelta(hours=24)
OLD = timedelta(days=7)
TOP_ALERT_SITES = 5
BUSIEST = 10
TOP_FAILURE_SITES = 10


def level(count: int, *, red_above: int) -> str:
    """The colour of a card: red above the threshold, amber above 0, else green."""
    return "red" if count > red_above else "amber" if count > 0 else "green"


def active_faults(filters: Filters) -> list[dict]:
    """The faults with no end date of the filters' sites, whatever the period; only those of charge
    points (equipment "PDC…") when the `charge_points_only` parameter is "1"."""
    condition, params = "f.ended_at IS NULL", {}
    if filters.extra.get("charge_points_only") == "1":
        condition, params = condition + " AND f.equipment LIKE %(pdc)s", {"pdc": "PDC%"}
    return faults.fault_rows(condition, params, filters.site_ids)


def _site_bars(key: str, title: str, rows: list[dict], value: str, label: str) -> Chart:
    return Chart(key=key, title=title, kind="bar", labels=[r["site"] for r in rows],
                 datasets=[{"label": label, "data": [r[value] for r in rows]}], table=key)  # fmt: skip


def run(filters: Filters) -> Result:
    now = timezone.now()
    active = active_faults(filters)
    fault_rows = [
        {key: f[key] for key in ("site", "code", "equipment", "label", "start", "duration_days")}
        | {"old": now - f["started_at"] > OLD}
        for f in active
    ]
    recent = Counter(f["site"] for f in active if now - f["started_at"] < RECENT)
    recent_rows = [{"site": site, "faults": n} for site, n in sorted(recent.items())]

    alerts = recurring_errors.detect(filters)
    per_site = Counter(a["site"] for a in alerts)
    ranked_alerts = sorted(per_site.items(), key=lambda item: (-item[1], item[0]))[:TOP_ALERT_SITES]
    alert_sites = [{"site": site, "alerts": n} for site, n in ranked_alerts]

    sites = general.run(filters).table("sites").rows  # under the filters, sorted by failures
    busiest = sorted(sites, key=lambda r: (-r["total"], r["site"]))[:BUSIEST]
    ranked = [{key: r[key] for key in ("site", "total", "ok", "failed", "ok_pct")}
              for r in sorted(busiest, key=lambda r: (-r["ok_pct"], r["site"]))]  # fmt: skip
    failures = [{key: r[key] for key in ("site", "total", "failed", "failed_pct")}
                for r in sites if r["failed"]][:TOP_FAILURE_SITES]  # fmt: skip

    alert_count = len(alerts)
    tables = [
        Table(
            key="active_faults",
            title=_("Active faults"),
            columns=[
                Column("site", _("Site")), Column("equipment", _("Equipment")), Column("label", _("Fault")),
                Column("start", _("Since"), "datetime"), Column("duration_days", _("Days"), "float"),
                Column("old", _("Older than 7 days")),
            ],
            rows=fault_rows,
        ),
        Table(key="recent_fault_sites", title=_("Sites with a fault less than 24 h old"),
              columns=[Column("site", _("Site")), Column("faults", _("Faults"), "int")], rows=recent_rows),
        Table(key="alert_sites", title=_("Top 5 sites by alerts"),
              columns=[Column("site", _("Site")), Column("alerts", _("Alerts"), "int")], rows=alert_sites),
        Table(
            key="busiest_sites",
            title=_("Success rate of the 10 busiest sites"),
            columns=[Column("site", _("Site")), Column("total", _("Sessions"), "int"), Column("ok", _("OK"), "int"),
                     Column("failed", _("Failed"), "int"), Column("ok_pct", _("% OK"), "pct")],
            rows=ranked,
        ),
        Table(
            key="failure_sites",
            title=_("Top 10 sites by failures"),
            columns=[Column("site", _("Site")), Column("total", _("Sessions"), "int"),
                     Column("failed", _("Failed"), "int"), Column("failed_pct", _("% failed"), "pct")],
            rows=failures,
        ),
    ]  # fmt: skip
    return Result(
        name=NAME,
        figures={
            "active_faults": len(active),
            "active_faults_level": level(len(active), red_above=5),
            "suspicious": suspicious.count(filters),
            "multiple_attempts": multiple_attempts.group_count(filters),
            "alerts": alert_count,
            "alerts_level": level(alert_count, red_above=10),
        },
        tables=tables,
        charts=[
            _site_bars("alert_sites", _("Top 5 sites by alerts"), alert_sites, "alerts", _("Alerts")),
            _site_bars("busiest_sites", _("Success rate of the 10 busiest sites"), ranked, "ok_pct", _("% OK")),
            _site_bars("failure_sites", _("Top 10 sites by failures"), failures, "failed", _("Failed")),
        ],
        notes=[str(note) for note in NOTES],
    )
