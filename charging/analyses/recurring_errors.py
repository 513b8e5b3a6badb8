"""10. Alerts (recurring errors) — failed sessions grouped by (site, charge point, error type,
moment, EVI code, Downstream code); within a group, in start order, an error not yet used opens a
window [t0, t0 + 12 h]; 3 or more errors in it make an alert (detection = t0, occurrences = their
count, last = the last error of the window) and those errors are used up. Filtered by period, sites,
error type and moment. `charging.alerting` raises the same alerts through the platform's engine."""

from datetime import timedelta
from itertools import groupby

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, local_time, scope, site_labels, with_failed
from charging.filters import Filters
from charging.vocabulary import ErrorType, Moment

NAME = "alerts"
TITLE = gettext_lazy("Alerts")
NOTES = [
    gettext_lazy(
        "An alert: 3 or more identical errors (same charge point, type, moment, EVI and Downstream codes) within "
        "12 hours of the first one. Only an alert uses its errors up: when fewer than 3 fall in a window, the next "
        "error opens the next window."
    ),
    gettext_lazy("Windows start from the first error of the period: a period that starts later can group differently."),
]  # fmt: skip
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "count": "Recurring-error alerts (3+ same errors of a charge point within 12 h).",
    "sessions": "Errors in those alerts.",
}
# The cards' labels (the portal's generic ones otherwise).
FIGURE_LABELS = {"count": gettext_lazy("Alerts"), "sessions": gettext_lazy("Errors in those alerts")}


WINDOW = timedelta(hours=12)
MIN_OCCURRENCES = 3

_KEY = ("site_id", "charge_point_id", "error_type", "moment", "evi_code", "downstream_code")


def _windows(errors: list[dict]) -> list[list[dict]]:
    """The alerts of one group's errors (in start order): each error not yet used opens a window
    [t0, t0 + 12 h]; ≥ 3 errors in it are an alert and are used up; otherwise only the opener is
    passed over and the next error opens the next window (the customer's reading: only an alert
    consumes its errors)."""
    found, i = [], 0
    while i < len(errors):
        end = errors[i]["started_at"] + WINDOW
        j = i
        while j < len(errors) and errors[j]["started_at"] <= end:
            j += 1
        if j - i >= MIN_OCCURRENCES:
            found.append(errors[i:j])
            i = j
        else:
            i += 1
    return found


def detect(filters: Filters) -> list[dict]:
    """The recurring-error alerts of the filters' sites and period (failed: type and moment selected),
    newest detection first: {site_id, site, code, charge_point_id, charge_point, error_type, moment,
    evi_code, downstream_code, detection / last (aware), detection_local / last_local (the source's
    local time), occurrences, session_ids}.

    The grouping runs in Python over the failed sessions only, and only over those with at least 3
    errors of their group within 12 h either side (a window count in SQL drops the others: an error
    with fewer can neither open an alert's window nor fall in one, so the walk is unchanged). The
    consuming walk (a window is opened by the next unused error, which depends on the previous
    window) is a short loop in Python, where SQL would need a recursive CTE stepping one window at a
    time through every group."""
    where, params = scope(filters)
    partition = ", ".join(f"s.{column}" for column in _KEY)
    span = f"interval '{int(WINDOW.total_seconds())} seconds'"
    sql, params = with_failed(
        f"SELECT e.*, cp.name AS charge_point, {local_time('e.started_at')} AS local_start FROM ("
        f"SELECT {partition}, s.source_id, s.started_at, s.external_id, "
        f"count(*) OVER (PARTITION BY {partition} ORDER BY s.started_at "
        f"RANGE BETWEEN {span} PRECEDING AND {span} FOLLOWING) AS near "
        f"FROM charging_chargingsession s WHERE {where} AND {{failed}}) e "
        "JOIN charging_chargepoint cp ON cp.id = e.charge_point_id "
        "JOIN charging_chargingsource src ON src.id = e.source_id "
        f"WHERE e.near >= {MIN_OCCURRENCES} "
        "ORDER BY e.site_id, e.charge_point_id, e.error_type, e.moment, e.evi_code NULLS FIRST, "
        "e.downstream_code NULLS FIRST, e.started_at, e.external_id",
        params,
    )
    errors = fetch(sql, params)
    labels = site_labels({row["site_id"] for row in errors})
    alerts = []
    for _key, group in groupby(errors, key=lambda row: tuple(row[column] for column in _KEY)):
        for window in _windows(list(group)):
            first, last = window[0], window[-1]
            alerts.append({
                **{column: first[column] for column in _KEY},
                **labels.get(first["site_id"], {"site": "?", "code": ""}),
                "charge_point": first["charge_point"],
                "detection": first["started_at"], "last": last["started_at"],
                "detection_local": first["local_start"], "last_local": last["local_start"],
                "occurrences": len(window),
                "session_ids": [row["external_id"] for row in window],
            })  # fmt: skip
    alerts.sort(key=lambda a: (a["detection"], a["site"], a["charge_point"]), reverse=True)
    return alerts


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def run(filters: Filters) -> Result:
    alerts = detect(filters)
    # Each label translated once, not once per alert (thousands over a whole period).
    types = {value: _label(ErrorType, value) for value in {a["error_type"] for a in alerts}}
    moments = {value: _label(Moment, value) for value in {a["moment"] for a in alerts}}
    rows = [
        {
            "site": a["site"], "code": a["code"], "charge_point": a["charge_point"],
            "error_type": types[a["error_type"]], "moment": moments[a["moment"]],
            "evi_code": a["evi_code"], "downstream_code": a["downstream_code"],
            "detection": a["detection_local"], "last": a["last_local"], "occurrences": a["occurrences"],
            "session_ids": ", ".join(a["session_ids"]),
        }
        for a in alerts
    ]  # fmt: skip
    per_site: dict[str, int] = {}
    for a in alerts:
        per_site[a["site"]] = per_site.get(a["site"], 0) + 1
    sites = [{"site": site, "alerts": n} for site, n in sorted(per_site.items(), key=lambda item: (-item[1], item[0]))]
    table = Table(
        key="alerts",
        title=_("Recurring errors"),
        columns=[
            Column("site", _("Site")), Column("charge_point", _("Charge point")), Column("error_type", _("Type")),
            Column("moment", _("Moment")), Column("evi_code", _("EVI code"), "int"),
            Column("downstream_code", _("Downstream code"), "int"), Column("detection", _("Detected"), "datetime"),
            Column("last", _("Last occurrence"), "datetime"), Column("occurrences", _("Occurrences"), "int"),
            Column("session_ids", _("Sessions")),
        ],
        rows=rows,
    )  # fmt: skip
    sites_table = Table(
        key="sites",
        title=_("Alerts per site"),
        columns=[Column("site", _("Site")), Column("alerts", _("Alerts"), "int")],
        rows=sites,
    )
    return Result(
        name=NAME,
        figures={"count": len(alerts), "sessions": sum(a["occurrences"] for a in alerts)},
        tables=[table, sites_table],
        charts=[
            Chart(
                key="sites",
                title=_("Alerts per site"),
                kind="bar",
                labels=[s["site"] for s in sites],
                datasets=[{"label": _("Alerts"), "data": [s["alerts"] for s in sites]}],
                table="sites",
            )
        ],
        notes=[str(note) for note in NOTES],
    )
