"""7. Suspicious sessions — reported OK and `Energy (Kwh)` < 1. Nothing else."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.analyses.base import Column, Result, Table
from charging.analyses.sql import fetch, local_time, one, scope, session_link, site_labels
from charging.filters import Filters

NAME = "suspicious"
TITLE = gettext_lazy("Suspicious sessions")
NOTES = [
    gettext_lazy(
        "Suspicious: reported OK by the charge point with less than 1 kWh delivered. Nothing else is tested; "
        "a session without an energy value is not counted."
    ),
]
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "count": "Sessions reported OK with less than 1 kWh.",
}
# The cards' labels (the portal's generic ones otherwise).
FIGURE_LABELS = {"count": gettext_lazy("Suspicious sessions")}


MAX_ROWS = 2000  # the newest sessions shown; the figure counts them all


def _where(filters: Filters) -> tuple[str, dict]:
    """Reported OK (the session's own outcome, not the filters' notion of failure) and < 1 kWh."""
    where, params = scope(filters)
    params.pop("_failed")
    return f"{where} AND s.is_ok AND s.energy_kwh < 1", params


def count(filters: Filters) -> int:
    """From the days pre-aggregate (charging.rollups), which counts them per charge point and day."""
    where, params = scope(filters)
    params.pop("_failed")
    return one(f"SELECT coalesce(sum(s.suspicious), 0) AS n FROM charging_chargingday s WHERE {where}", params)["n"]


def _soc(start: float | None, end: float | None) -> str:
    def text(value: float | None) -> str:
        return "?" if value is None else f"{value:g}%"

    return f"{text(start)} → {text(end)}"


def run(filters: Filters) -> Result:
    where, params = _where(filters)
    # The newest matches through the index of suspicious sessions by start (~1 % of the sessions);
    # their count from the days pre-aggregate.
    sessions = fetch(
        f"SELECT s.external_id, {session_link()} AS url, s.site_id, cp.name AS charge_point, "
        f"{local_time('s.started_at')} AS start, s.energy_kwh, s.soc_start, s.soc_end, s.mac, s.vehicle "
        "FROM charging_chargingsession s "
        "JOIN charging_chargepoint cp ON cp.id = s.charge_point_id "
        "JOIN charging_chargingsource src ON src.id = s.source_id "
        f"WHERE {where} ORDER BY s.started_at DESC, s.external_id LIMIT {MAX_ROWS}",
        params,
    )
    labels = site_labels(row["site_id"] for row in sessions)
    rows = [
        {
            "id": row["external_id"],
            "id_url": row["url"],
            **labels.get(row["site_id"], {"site": "?", "code": ""}),
            "charge_point": row["charge_point"],
            "start": row["start"],
            "energy_kwh": row["energy_kwh"],
            "soc": _soc(row["soc_start"], row["soc_end"]),
            "mac": row["mac"],
            "vehicle": row["vehicle"],
        }
        for row in sessions
    ]
    total = count(filters) if sessions else 0
    table = Table(
        key="sessions",
        title=_("Suspicious sessions"),
        columns=[
            Column("id", _("ID"), "link"), Column("site", _("Site")), Column("charge_point", _("Charge point")),
            Column("start", _("Start"), "datetime"), Column("energy_kwh", _("Energy (kWh)"), "float"),
            Column("soc", _("SOC")), Column("mac", _("MAC")), Column("vehicle", _("Vehicle")),
        ],
        rows=rows,
        note=_("The %(n)s newest of %(total)s.") % {"n": MAX_ROWS, "total": total} if total > MAX_ROWS else "",
    )  # fmt: skip
    return Result(name=NAME, figures={"count": total}, tables=[table], notes=[str(note) for note in NOTES])
