"""6. Multiple attempts — sessions with a MAC, grouped by (site, start truncated to the clock hour,
MAC); a group of ≥ 2 sessions, OK or not, is shown with its charge points, first and last attempt,
session ids, SOC start/end min and max, MAC and vehicle."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Column, Result, Table
from charging.analyses.sql import fetch, local_time, one, scope, site_labels
from charging.filters import Filters
from charging.selectors import charging_sources

NAME = "multiple-attempts"
TITLE = gettext_lazy("Multiple attempts")
NOTES = [
    gettext_lazy("Attempts are grouped by clock hour: 10:59 and 11:01 are two groups."),
    gettext_lazy(
        "A group counts every session of the vehicle in that hour, OK or not; sessions without a MAC are left out."
    ),
]
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "count": "Groups of 2+ sessions of one MAC in one clock hour at one site.",
    "sessions": "Sessions in those groups.",
}
# The cards' labels (the portal's generic ones otherwise).
FIGURE_LABELS = {"count": gettext_lazy("Groups"), "sessions": gettext_lazy("Attempts in those groups")}


MAX_ROWS = 2000  # the newest groups shown; the figures count them all

# The groups: (site, local clock hour, MAC) with ≥ 2 sessions; local_date + local_hour are the start
# truncated to the hour in the source's time zone, as the operators read it. `charging.rollups`
# keeps them, with their sessions' ids, in charging_chargingattempt, one source's sessions at a
# time: where two sources could share a site (and a vehicle the hour), they are grouped here from the
# sessions, one day at a time (a group never spans two days: each day's few thousand sessions hash in
# memory, where one GROUP BY over a whole period's million spills to disk).
_KEPT = "SELECT s.local_date, s.site_id, s.local_hour, s.mac, s.sessions, s.session_ids FROM charging_chargingattempt s"
_GROUPED = (
    "SELECT day.d AS local_date, g.site_id, g.local_hour, g.mac, g.sessions, g.session_ids "
    "FROM (SELECT %(d1)s::date + n AS d FROM generate_series(0, %(days)s - 1) AS n) day "
    "CROSS JOIN LATERAL (SELECT s.site_id, s.local_hour, s.mac, count(*) AS sessions, array_agg(s.id) AS session_ids "
    "FROM charging_chargingsession s WHERE s.local_date = day.d AND {where} AND s.mac <> '' "
    "GROUP BY s.site_id, s.local_hour, s.mac HAVING count(*) >= 2) g"
)


def _groups(filters: Filters) -> tuple[str, dict]:
    """SQL of the groups (local_date, site_id, local_hour, mac, sessions, session_ids), and its parameters."""
    where, params = scope(filters)
    params.pop("_failed")
    if charging_sources().count() <= 1:
        return f"{_KEPT} WHERE {where}", params
    return _GROUPED.format(where=where), {**params, "days": (filters.end_exclusive - filters.d1).days}


def _totals(filters: Filters) -> tuple[int, int]:
    """(groups, sessions in them) of the filters' sites and period."""
    groups, params = _groups(filters)
    totals = one(f"SELECT count(*) AS n, coalesce(sum(g.sessions), 0) AS sessions FROM ({groups}) g", params)
    return totals["n"], int(totals["sessions"])


def group_count(filters: Filters) -> int:
    """How many groups of ≥ 2 attempts the filters' sites and period have (the overview's card)."""
    return _totals(filters)[0]


def run(filters: Filters) -> Result:
    count, sessions = _totals(filters)
    groups_sql, params = _groups(filters)
    start = local_time("s.started_at")
    # The newest groups, then their sessions by id (the counts apart: counting in the same query
    # would read every group in date order, not only the newest).
    groups = fetch(
        f"WITH g AS (SELECT * FROM ({groups_sql}) g "
        f"ORDER BY g.local_date DESC, g.local_hour DESC, g.site_id, g.mac LIMIT {MAX_ROWS}) "
        "SELECT g.site_id, g.local_date, g.local_hour, g.mac, count(*) AS sessions, "
        "count(*) FILTER (WHERE s.is_ok) AS ok, "
        "string_agg(DISTINCT cp.name, ', ' ORDER BY cp.name) AS charge_points, "
        f"min({start}) AS first_attempt, max({start}) AS last_attempt, "
        "string_agg(s.external_id, ', ' ORDER BY s.started_at, s.external_id) AS session_ids, "
        "min(s.soc_start) AS soc_start_min, max(s.soc_start) AS soc_start_max, "
        "min(s.soc_end) AS soc_end_min, max(s.soc_end) AS soc_end_max, "
        "coalesce(max(NULLIF(s.vehicle, '')), '') AS vehicle "
        "FROM g CROSS JOIN LATERAL unnest(g.session_ids) AS i(id) "
        "JOIN charging_chargingsession s ON s.id = i.id "
        "JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
        "JOIN charging_chargingsource src ON src.id = s.source_id "
        "GROUP BY g.site_id, g.local_date, g.local_hour, g.mac "
        "ORDER BY g.local_date DESC, g.local_hour DESC, g.site_id, g.mac",
        params,
    )
    labels = site_labels(g["site_id"] for g in groups)
    rows = [
        {
            **labels.get(g["site_id"], {"site": "?", "code": ""}),
            "hour": f"{g['local_date'].isoformat()} {g['local_hour']:02d}:00",
            "mac": g["mac"],
            "vehicle": g["vehicle"],
            "sessions": g["sessions"],
            "ok": g["ok"],
            "failed": g["sessions"] - g["ok"],
            "charge_points": g["charge_points"],
            "first_attempt": g["first_attempt"],
            "last_attempt": g["last_attempt"],
            "session_ids": g["session_ids"],
            "soc_start_min": g["soc_start_min"],
            "soc_start_max": g["soc_start_max"],
            "soc_end_min": g["soc_end_min"],
            "soc_end_max": g["soc_end_max"],
        }
        for g in groups
    ]
    table = Table(
        key="groups",
        title=_("Multiple attempts"),
        columns=[
            Column("site", _("Site")), Column("hour", _("Hour")), Column("mac", _("MAC")),
            Column("vehicle", _("Vehicle")), Column("sessions", _("Attempts"), "int"), Column("ok", _("OK"), "int"),
            Column("failed", _("Failed"), "int"), Column("charge_points", _("Charge points")),
            Column("first_attempt", _("First attempt"), "datetime"),
            Column("last_attempt", _("Last attempt"), "datetime"), Column("session_ids", _("Sessions")),
            Column("soc_start_min", _("SOC start min (%)"), "float"),
            Column("soc_start_max", _("SOC start max (%)"), "float"),
            Column("soc_end_min", _("SOC end min (%)"), "float"), Column("soc_end_max", _("SOC end max (%)"), "float"),
        ],
        rows=rows,
        note=_("The %(n)s newest groups of %(total)s.") % {"n": MAX_ROWS, "total": count} if count > MAX_ROWS else "",
    )  # fmt: skip
    return Result(
        name=NAME,
        figures={"count": count, "sessions": sessions},
        tables=[table],
        notes=[str(note) for note in NOTES],
    )
