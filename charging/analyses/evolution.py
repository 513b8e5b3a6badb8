"""11. Evolution — monthly rate = (OK sessions + failures at Fin de charge) / all sessions × 100, up
to the last complete month, ignoring the filters."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging import selectors
from charging.analyses.base import Chart, Column, Result, Table
from charging.analyses.sql import fetch, pct
from charging.filters import Filters
from charging.vocabulary import Moment

NAME = "evolution"
TITLE = gettext_lazy("Evolution")
NOTES = [
    gettext_lazy("This chart ignores the filters: every site, every month of the data."),
    gettext_lazy("The rate counts failures at end of charge as successes (the vehicle was charged)."),
    gettext_lazy("The current month is left out until it is over."),
]
PARAMS: tuple[str, ...] = ()

# The headline figures of the answer, as the OpenAPI describes them.
FIGURES = {
    "months": "Per complete month: month (YYYY-MM), rate (%), sessions.",
}


def run(filters: Filters) -> Result:
    """`filters` are ignored (CHARGING.md). The last complete month is the one before the current
    month in the source's time zone (`DataBounds.today`), not the month of the newest data: a month
    is over when the calendar says so, even if the data of its last days has not come in."""
    cutoff = selectors.data_bounds().today.replace(day=1)
    # From the days pre-aggregate (charging.rollups), every source and site.
    months = fetch(
        "SELECT to_char(date_trunc('month', d.local_date), 'YYYY-MM') AS month, sum(d.sessions)::int AS sessions, "
        "sum(d.counted)::int AS counted FROM (SELECT s.local_date, sum(s.sessions) AS sessions, "
        "coalesce(sum(s.sessions) FILTER (WHERE s.is_ok OR s.moment = %(end)s), 0) AS counted "
        "FROM charging_chargingday s WHERE s.local_date < %(cutoff)s GROUP BY s.local_date) d "
        "GROUP BY 1 ORDER BY 1",
        {"cutoff": cutoff, "end": Moment.END_OF_CHARGE.value},
    )
    rows = [
        {"month": m["month"], "rate": pct(m["counted"], m["sessions"]), "sessions": m["sessions"],
         "counted": m["counted"]}
        for m in months
    ]  # fmt: skip
    table = Table(
        key="months",
        title=_("Success rate per month"),
        columns=[
            Column("month", _("Month")),
            Column("rate", _("Rate (%)"), "pct"),
            Column("sessions", _("Sessions"), "int"),
            Column("counted", _("OK or failed at end of charge"), "int"),
        ],
        rows=rows,
    )
    return Result(
        name=NAME,
        figures={"months": [{"month": r["month"], "rate": r["rate"], "sessions": r["sessions"]} for r in rows]},
        tables=[table],
        charts=[
            Chart(
                key="months",
                title=_("Success rate per month"),
                kind="line",
                labels=[r["month"] for r in rows],
                datasets=[{"label": _("Rate (%)"), "data": [r["rate"] for r in rows]}],
                table="months",
            )
        ],
        notes=[str(note) for note in NOTES],
    )
