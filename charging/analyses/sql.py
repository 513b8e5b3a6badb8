"""What the analyses share to run their SQL: rows as dicts, rounding the customer's way, the sites'
names and codes (read through `sites.selectors`, never by joining another app's table)."""

from collections.abc import Iterable

from django.db import connection

from charging.filters import Filters
from sites.selectors import sites


def fetch(sql: str, params: dict | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(sql: str, params: dict | None = None) -> dict:
    rows = fetch(sql, params)
    return rows[0] if rows else {}


def pct(part: float | None, whole: float | None) -> float:
    """round(part / whole × 100, 2), the customer's rounding; 0 when there is nothing to divide."""
    return round((part or 0) / whole * 100, 2) if whole else 0.0


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def site_labels(ids: Iterable[int] | None = None) -> dict[int, dict]:
    """{site id: {"site": name, "code": code}} for the sites of these rows."""
    queryset = sites() if ids is None else sites().filter(pk__in=set(ids))
    return {pk: {"site": name, "code": code} for pk, name, code in queryset.values_list("pk", "name", "code")}


def scope(filters: Filters, alias: str = "s") -> tuple[str, dict]:
    """WHERE clause and parameters: the filters' sites and period, and `failed` usable as
    `{failed}` in the SQL (a failure whose type and moment are both selected)."""
    where, params = filters.session_where(alias)
    failed, failed_params = filters.failed_sql(alias)
    return where, {**params, **failed_params, "_failed": failed}


def with_failed(sql: str, params: dict) -> tuple[str, dict]:
    """Substitute `{failed}` in `sql` with the filters' failure condition."""
    params = dict(params)
    failed = params.pop("_failed")
    return sql.replace("{failed}", failed), params


# A session's start (or any timestamp column) as its source's operators read it: local, naive,
# "YYYY-MM-DD HH:MM:SS". Needs the source joined as `src` (`JOIN charging_chargingsource src ON
# src.id = s.source_id`).
def local_time(column: str, source: str = "src") -> str:
    return f"to_char({column} AT TIME ZONE {source}.time_zone, 'YYYY-MM-DD HH24:MI:SS')"


def session_link(alias: str = "s", source: str = "src") -> str:
    """SQL for the address of a session in the operator's console (the source's template, {id}
    replaced by the session ID); '' when the source has no template. A `link` column's row holds the
    ID under the column's key and this address under `<key>_url`."""
    return f"replace({source}.link_template, '{{id}}', {alias}.external_id)"
