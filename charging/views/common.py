"""What every charging page shares: the section, the filters read from the query string (with the
form's state and the reasons of an invalid one), the freshness banner, how values are shown."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from charging import selectors
from charging.filters import ALL_MOMENTS, PERIODS, Filters, InvalidFilter, parse_filters
from charging.vocabulary import FILTERABLE_MOMENTS, FILTERABLE_TYPES, MOMENT_SHORTCUTS, ErrorType, MomentGroup
from core.navigation import SECTION_BY_SLUG

SECTION = SECTION_BY_SLUG["charging"]

FIELD_LABELS = {
    "tab": _("Tab"),
    "sites": _("Sites"),
    "period": _("Period"),
    "d1": _("Start date"),
    "d2": _("End date"),
    "types": _("Error types"),
    "moments": _("Moments"),
    "status": _("Outcome"),  # the session list's own filter
}


def htmx_login(view):
    """An HTMX request of a signed-out reader (the session expired on an open page) sends the whole
    page to the sign-in, back to that page after: never the sign-in form swapped into a tab."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.headers.get("HX-Request") and not request.user.is_authenticated:
            current = urlsplit(request.headers.get("HX-Current-URL") or request.get_full_path())
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(
                current.path + (f"?{current.query}" if current.query else "")
            ).url
            return response
        return view(request, *args, **kwargs)

    return wrapped


@dataclass
class FilterState:
    """The filters as the form shows them: parsed (`filters`, None when invalid), the raw values to
    put back into the fields, and the reason per bad field."""

    filters: Filters | None
    values: dict
    errors: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)  # the labels of an analysis's own parameters

    @property
    def query(self) -> dict[str, str]:
        return self.filters.as_query() if self.filters else {}

    @property
    def error_list(self) -> list[dict]:
        return [
            {"field": name, "label": self.labels.get(name) or FIELD_LABELS.get(name, name), "reason": reason}
            for name, reason in self.errors.items()
        ]


def _split(params, name: str) -> list[str]:
    return [part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()]


def read_filters(params, extra: tuple[str, ...] = ()) -> FilterState:
    """The shared filters of a query string, never raising: an invalid one gives its reasons."""
    moments = _split(params, "moments")
    expanded = []
    for name in moments:
        expanded.extend(MOMENT_SHORTCUTS.get(name, [name]))
    values = {
        "period": params.get("period") or "month",
        "d1": params.get("d1", ""),
        "d2": params.get("d2", ""),
        "sites": _split(params, "sites"),
        "types": _split(params, "types"),
        "moments": expanded,
        "extra": {name: params.get(name, "") for name in extra},
    }
    try:
        filters = parse_filters(
            params, bounds=selectors.data_bounds(), site_ids_by_code=selectors.site_ids_by_code(), extra=extra
        )
    except InvalidFilter as invalid:
        return FilterState(None, values, dict(invalid.fields))
    values.update(d1=filters.d1.isoformat(), d2=filters.d2.isoformat(), sites=list(filters.sites))
    return FilterState(filters, values)


def filter_form_context(state: FilterState) -> dict:
    chosen_types = state.values["types"] or list(FILTERABLE_TYPES)
    chosen_moments = state.values["moments"] or list(ALL_MOMENTS)
    return {
        "state": state,
        "periods": [(key, label) for key, label in PERIODS.items()],
        "site_choices": selectors.site_choices(),
        "type_choices": [
            (short, ErrorType(value).label, short in chosen_types) for short, value in FILTERABLE_TYPES.items()
        ],
        "moment_choices": [(m.value, m.label, m.value in chosen_moments) for m in FILTERABLE_MOMENTS],
        "shortcuts": [(name, MomentGroup(name).label, ",".join(moments)) for name, moments in MOMENT_SHORTCUTS.items()],
    }


def freshness() -> dict:
    """The banner of every charging page: data as of the last successful import, and every source
    that could not be read lately, since when and why."""
    state = selectors.freshness()
    return {
        "has_sources": bool(state["sources"]),
        "data_as_of": state["data_as_of"],
        "unreachable": [s for s in state["sources"] if s["unreachable_since"]],
        "zone": selectors.time_zone_name(),
    }


def query_string(query: dict) -> str:
    return urlencode({k: v for k, v in query.items() if v not in (None, "")})


# --- Values as pages show them -------------------------------------------------------------------


def zone_of(name: str):
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return timezone.get_current_timezone()


def _two_decimals(value: float) -> str:
    """Rounded (Django's number_format alone cuts: 12.3456 → "12.34"), in the reader's format."""
    return formats.number_format(round(value, 2), 2)


def shown(value, kind: str, zone) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):  # a SQL sum or average
        value = float(value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if kind == "datetime" and isinstance(value, datetime):
        value = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind == "pct" and isinstance(value, (int, float)):
        return f"{_two_decimals(value)} %"
    if kind == "float" and isinstance(value, (int, float)):
        return _two_decimals(value)
    if isinstance(value, float):
        return _two_decimals(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def sort_key(value) -> str:
    """What a sortable column sorts on: numbers as numbers (the script compares them so), the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        return repr(float(value)) if isinstance(value, Decimal) else repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
