"""12. Fault history — the equipment faults overlapping the period (started before its end and not
ended before its start) of the selected sites; "in progress" (no end date) or "resolved"; duration
in days = (end or now) − start; counts, mean duration, status pie, full table, top 5 equipment and
top 5 faults."""

from collections import Counter

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, local_time, rounded, site_labels
from charging.filters import Filters

NAME = "faults"
TITLE = gettext_lazy("Fault history")
NOTES = [
    gettext_lazy("Every fault active at some time in the period is listed, including those that started before it."),
    gettext_lazy("The duration of a fault still in progress runs until now; the mean duration includes them."),
]  # fmt: skip
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "active": "Faults in progress.",
    "resolved": "Faults resolved.",
    "total": "Faults overlapping the period.",
    "mean_duration_days": "Mean duration, days (in progress: until now).",
}
# The cards' labels (the portal's generic ones otherwise).
FIGURE_LABELS = {
    "active": gettext_lazy("In progress"),
    "resolved": pgettext_lazy("faults (a count)", "Resolved"),  # an alert is resolved too: French genders differ
    "total": gettext_lazy("Faults"),
    "mean_duration_days": gettext_lazy("Mean duration (days)"),
}


TOP = 5


def fault_rows(condition: str, params: dict, site_ids: tuple[int, ...] = ()) -> list[dict]:
    """The faults (alias `f`, source `src`) meeting `condition`, newest first, with their local start
    and end, status and duration in days ((end or now) − start)."""
    if site_ids:
        condition += " AND f.site_id = ANY(%(fault_sites)s)"
        params = {**params, "fault_sites": list(site_ids)}
    faults = fetch(
        f"SELECT f.id, f.site_id, f.label, f.equipment, f.bit_position, f.field_name, f.started_at, "
        f"{local_time('f.started_at')} AS start, {local_time('f.ended_at')} AS finish, f.ended_at IS NULL AS active, "
        "extract(epoch FROM coalesce(f.ended_at, now()) - f.started_at) / 86400 AS days "
        "FROM charging_fault f JOIN charging_chargingsource src ON src.id = f.source_id "
        f"WHERE {condition} ORDER BY f.started_at DESC, f.id",
        params,
    )
    labels = site_labels(row["site_id"] for row in faults)
    return [
        {
            "id": row["id"], "site_id": row["site_id"], **labels.get(row["site_id"], {"site": "?", "code": ""}),
            "equipment": row["equipment"], "label": row["label"], "start": row["start"], "end": row["finish"],
            "started_at": row["started_at"],
            "status": "in_progress" if row["active"] else "resolved",
            "duration_days": rounded(row["days"]),
            "bit_position": row["bit_position"], "field_name": row["field_name"],
        }
        for row in faults
    ]  # fmt: skip


def overlapping(filters: Filters) -> list[dict]:
    """Faults that started before the period's end and had not ended at its start (the period's
    bounds are local midnights in each fault's source's time zone)."""
    return fault_rows(
        "f.started_at < (%(d2x)s::timestamp AT TIME ZONE src.time_zone) "
        "AND (f.ended_at IS NULL OR f.ended_at > (%(d1)s::timestamp AT TIME ZONE src.time_zone))",
        {"d1": filters.d1, "d2x": filters.end_exclusive},
        filters.site_ids,
    )


def status_label(status: str) -> str:
    return _("In progress") if status == "in_progress" else pgettext("a fault", "Resolved")


def _top(faults: list[dict], field: str, label: str, key: str, title: str) -> Table:
    counts = Counter(f[field] for f in faults)
    rows = [{field: name, "faults": n} for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return Table(
        key=key, title=title, columns=[Column(field, label), Column("faults", _("Faults"), "int")], rows=rows[:TOP]
    )


def run(filters: Filters) -> Result:
    faults = overlapping(filters)
    active = sum(f["status"] == "in_progress" for f in faults)
    resolved = len(faults) - active
    durations = [f["duration_days"] for f in faults]
    mean = round(sum(durations) / len(durations), 2) if durations else None
    rows = [
        {key: f[key] for key in ("site", "code", "equipment", "label", "start", "end", "duration_days",
                                 "bit_position", "field_name")}
        | {"status": status_label(f["status"])}
        for f in faults
    ]  # fmt: skip
    table = Table(
        key="faults",
        title=_("Faults"),
        columns=[
            Column("site", _("Site")), Column("equipment", _("Equipment")), Column("label", _("Fault")),
            Column("start", _("Start"), "datetime"), Column("end", _("End"), "datetime"),
            Column("status", _("Status")), Column("duration_days", _("Duration (days)"), "float"),
            Column("bit_position", _("Bit"), "int"), Column("field_name", _("Field")),
        ],
        rows=rows,
    )  # fmt: skip
    statuses = Table(
        key="statuses",
        title=_("Status"),
        columns=[Column("status", _("Status")), Column("faults", _("Faults"), "int")],
        rows=[{"status": status_label("in_progress"), "faults": active}, {"status": status_label("resolved"),
                                                                          "faults": resolved}],
    )  # fmt: skip
    return Result(
        name=NAME,
        figures={"active": active, "resolved": resolved, "total": len(faults), "mean_duration_days": mean},
        tables=[
            table,
            statuses,
            _top(faults, "equipment", _("Equipment"), "equipment", _("Top 5 equipment")),
            _top(faults, "label", _("Fault"), "labels", _("Top 5 faults")),
        ],
        charts=[
            Chart(
                key="statuses",
                title=_("Status"),
                kind="pie",
                labels=[r["status"] for r in statuses.rows],
                datasets=[{"label": _("Faults"), "data": [r["faults"] for r in statuses.rows]}],
                table="statuses",
            )
        ],
        notes=[str(note) for note in NOTES],
    )
