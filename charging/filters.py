"""The filters every charging analysis shares (CHARGING.md "Filters"), one object for the pages, the
API and the exports: parsed from a query string, written back into one (so a view can be bookmarked
and shared), and turned into SQL.

Query parameters: `sites` (site codes, comma-separated; none = all), `period` (`day`, `month`,
`yesterday`, `week`, `all`, `range`), `d1`, `d2` (ISO dates), `types` (`EVI`, `DownStream`) and
`moments` (`Init`, `Lock Connector`, `CableCheck`, `Charge`, `Fin de charge`, or the shortcuts
`Avant charge`, `Charge`, `Fin de charge`).
"""

import calendar
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from charging.vocabulary import FILTERABLE_MOMENTS, FILTERABLE_TYPES, MOMENT_SHORTCUTS

PERIODS = {
    "day": gettext_lazy("Focus day"),
    "month": gettext_lazy("Focus month"),
    "yesterday": gettext_lazy("Yesterday (D-1)"),
    "week": gettext_lazy("Last 7 days (week -1)"),
    "all": gettext_lazy("Whole period"),
    "range": gettext_lazy("Dates"),
}
ALL_TYPES = tuple(FILTERABLE_TYPES.values())
ALL_MOMENTS = tuple(m.value for m in FILTERABLE_MOMENTS)


class InvalidFilter(ValueError):
    """A filter the caller must fix: `fields` maps each bad parameter to the reason."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class DataBounds:
    """What the period choices are relative to: the first and last local start date of the data,
    and today in the source's time zone."""

    first: date | None
    last: date | None
    today: date


@dataclass(frozen=True)
class Filters:
    period: str
    d1: date
    d2: date
    sites: tuple[str, ...] = ()  # site codes; () = every site
    site_ids: tuple[int, ...] = ()  # the same sites, resolved
    types: tuple[str, ...] = ALL_TYPES  # ErrorType values
    moments: tuple[str, ...] = ALL_MOMENTS
    extra: Mapping[str, str] = field(default_factory=dict)  # an analysis's own parameters

    @property
    def end_exclusive(self) -> date:
        """Periods are [d1 00:00, d2 + 1 day)."""
        return self.d2 + timedelta(days=1)

    def as_query(self) -> dict[str, str]:
        """The query string that gives these filters back (defaults left out)."""
        query = {"period": self.period}
        if self.period in ("day", "month", "range"):
            query["d1"] = self.d1.isoformat()
        if self.period == "range":
            query["d2"] = self.d2.isoformat()
        if self.sites:
            query["sites"] = ",".join(self.sites)
        if self.types != ALL_TYPES:
            query["types"] = ",".join(short for short, value in FILTERABLE_TYPES.items() if value in self.types)
        if self.moments != ALL_MOMENTS:
            query["moments"] = ",".join(self.moments)
        return {**query, **{key: value for key, value in self.extra.items() if value}}

    def cache_key(self) -> str:
        text = "|".join([self.d1.isoformat(), self.d2.isoformat(), ",".join(map(str, self.site_ids)),
                         ",".join(self.types), ",".join(self.moments),
                         ",".join(f"{k}={v}" for k, v in sorted(self.extra.items()))])  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()

    def session_where(self, alias: str = "s") -> tuple[str, dict]:
        """SQL (and its named parameters) selecting the sessions of these sites in this period."""
        sql = f"{alias}.local_date >= %(d1)s AND {alias}.local_date < %(d2x)s"
        params: dict = {"d1": self.d1, "d2x": self.end_exclusive}
        if self.site_ids:
            sql += f" AND {alias}.site_id = ANY(%(site_ids)s)"
            params["site_ids"] = list(self.site_ids)
        return sql, params

    def failed_sql(self, alias: str = "s") -> tuple[str, dict]:
        """SQL true for a session that counts as failed under these filters: not OK, and its type and
        its moment both selected. A failure filtered out counts as OK: it is not dropped."""
        sql = f"(NOT {alias}.is_ok AND {alias}.error_type = ANY(%(types)s) AND {alias}.moment = ANY(%(moments)s))"
        return sql, {"types": list(self.types), "moments": list(self.moments)}


def _parse_date(params: Mapping, name: str, errors: dict) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        if len(value) == 7:  # "2026-03": a month
            return date.fromisoformat(value + "-01")
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": value}
        return None


def _split(params: Mapping, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        values = value if isinstance(value, (list, tuple)) else [value] if value else []
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def parse_filters(
    params: Mapping, *, bounds: DataBounds, site_ids_by_code: Mapping[str, int], extra: tuple[str, ...] = ()
) -> Filters:
    """The filters a query string asks for, or InvalidFilter naming each bad parameter.

    Defaults: every site, the month of the newest session (so that a source whose data stopped still
    opens on data), both error types, every moment."""
    errors: dict[str, str] = {}
    last = bounds.last or bounds.today
    first = bounds.first or last
    period = (params.get("period") or "month").strip()
    if period not in PERIODS:
        errors["period"] = _("Choose one of: %s.") % ", ".join(PERIODS)
        period = "month"
    d1 = _parse_date(params, "d1", errors)
    d2 = _parse_date(params, "d2", errors)
    if period == "day":
        d1 = d2 = d1 or last
    elif period == "month":
        d1 = (d1 or last).replace(day=1)
        d2 = d1.replace(day=calendar.monthrange(d1.year, d1.month)[1])
    elif period == "yesterday":
        d1 = d2 = bounds.today - timedelta(days=1)
    elif period == "week":
        d2 = bounds.today - timedelta(days=1)
        d1 = d2 - timedelta(days=6)
    elif period == "all":
        d1, d2 = first, last
    else:  # range
        d1, d2 = d1 or first, d2 or d1 or last
        if d2 < d1:
            errors["d2"] = _("The end date is before the start date.")

    codes = _split(params, "sites")
    unknown = [code for code in codes if code not in site_ids_by_code]
    if unknown:
        errors["sites"] = _("Unknown site: %s.") % ", ".join(unknown)
    codes = sorted(set(codes) - set(unknown))

    short_types = _split(params, "types")
    types = ALL_TYPES
    if short_types:
        bad = [name for name in short_types if name not in FILTERABLE_TYPES]
        if bad:
            errors["types"] = _("Choose among: %s.") % ", ".join(FILTERABLE_TYPES)
        types = tuple(value for short, value in FILTERABLE_TYPES.items() if short in short_types)

    asked = _split(params, "moments")
    moments = ALL_MOMENTS
    if asked:
        wanted = set()
        for name in asked:
            if name in MOMENT_SHORTCUTS:
                wanted.update(MOMENT_SHORTCUTS[name])
            elif name in ALL_MOMENTS:
                wanted.add(name)
            else:
                errors["moments"] = _("Choose among: %s.") % ", ".join([*ALL_MOMENTS, *MOMENT_SHORTCUTS])
        moments = tuple(m for m in ALL_MOMENTS if m in wanted)

    own = {name: (params.get(name) or "").strip() for name in extra}
    if errors:
        raise InvalidFilter(errors)
    return Filters(
        period=period,
        d1=d1,
        d2=d2,
        sites=tuple(codes),
        site_ids=tuple(sorted(site_ids_by_code[code] for code in codes)),
        types=types,
        moments=moments,
        extra={k: v for k, v in own.items() if v},
    )
