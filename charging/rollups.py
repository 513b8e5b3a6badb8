"""`ChargingDay`, the sessions pre-aggregated per site and local day, and `ChargingAttempt`, the
groups of multiple attempts, kept in step with the sessions by `refresh(source)` at the end of every
import.

The days to rebuild are found in PostgreSQL, whatever wrote the sessions: a session inserted or
updated since the source's last refresh has a newer `xmin` (its writing transaction), and a day
whose session count no longer matches lost a session (deleted behind the import's back). Those days
are deleted and aggregated again from the sessions, in one transaction: a reader sees the old days
or the new ones, never half. The first refresh of a source builds all of its days."""

from django.db import connection, transaction

from charging.models import ChargingDayRefresh, ChargingSource

# (ChargingDay column, SQL over the sessions `s`), in the order of the INSERT.
_KEYS = [
    ("source_id", "s.source_id"),
    ("site_id", "s.site_id"),
    ("local_date", "s.local_date"),
    ("is_ok", "s.is_ok"),
    ("error_type", "s.error_type"),
    ("moment", "s.moment"),
    ("moment_group", "s.moment_group"),
    ("evi_step", "CASE WHEN s.is_ok THEN NULL ELSE s.evi_step END"),
    ("evi_code", "CASE WHEN s.is_ok THEN NULL ELSE s.evi_code END"),
    ("downstream_code", "CASE WHEN s.is_ok THEN NULL ELSE s.downstream_code END"),
]
_MEASURES = [
    ("sessions", "count(*)"),
    ("suspicious", "count(*) FILTER (WHERE s.is_ok AND s.energy_kwh < 1)"),
    ("energy_sum", "sum(s.energy_kwh)"),
    ("energy_n", "count(s.energy_kwh)"),
    ("energy_max", "max(s.energy_kwh)"),
    ("mean_power_sum", "sum(s.mean_power_kw)"),
    ("mean_power_n", "count(s.mean_power_kw)"),
    ("mean_power_max", "max(s.mean_power_kw)"),
    ("max_power_sum", "sum(s.max_power_kw)"),
    ("max_power_n", "count(s.max_power_kw)"),
    ("max_power_max", "max(s.max_power_kw)"),
    ("soc_start_sum", "sum(s.soc_start)"),
    ("soc_start_n", "count(s.soc_start)"),
    ("soc_end_sum", "sum(s.soc_end)"),
    ("soc_end_n", "count(s.soc_end)"),
    ("soc_gain_sum", "sum(s.soc_end - s.soc_start)"),
    ("soc_gain_n", "count(s.soc_end - s.soc_start)"),
    ("duration_sum", "coalesce(sum(s.duration_s), 0)"),
    ("charges_900v", "count(*) FILTER (WHERE s.charge_900v)"),
]
AGGREGATE = (
    f"INSERT INTO charging_chargingday ({', '.join(name for name, _sql in _KEYS + _MEASURES)}) "
    f"SELECT {', '.join(sql for _name, sql in _KEYS + _MEASURES)} FROM charging_chargingsession s "
    "WHERE {where} GROUP BY " + ", ".join(str(i) for i in range(1, len(_KEYS) + 1)) + " ORDER BY 3, 2"
)

# The multiple-attempt groups of those days (analysis 6).
GROUP_ATTEMPTS = (
    "INSERT INTO charging_chargingattempt (source_id, site_id, local_date, local_hour, mac, sessions, session_ids) "
    "SELECT s.source_id, s.site_id, s.local_date, s.local_hour, s.mac, count(*), array_agg(s.id ORDER BY s.id) "
    "FROM charging_chargingsession s WHERE {where} AND s.mac <> '' "
    "GROUP BY 1, 2, 3, 4, 5 HAVING count(*) >= 2 ORDER BY 3, 2"
)
TABLES = ("charging_chargingday", "charging_chargingattempt")

# The days of a source whose sessions changed since transaction `gap` ago, or whose count differs.
_STALE = (
    "SELECT coalesce(s.local_date, d.local_date) AS local_date FROM "
    "(SELECT local_date, count(*) AS n, bool_or(age(xmin) <= %(gap)s) AS written "
    " FROM charging_chargingsession WHERE source_id = %(source)s GROUP BY local_date) s "
    "FULL JOIN (SELECT local_date, sum(sessions) AS n FROM charging_chargingday "
    " WHERE source_id = %(source)s GROUP BY local_date) d ON d.local_date = s.local_date "
    "WHERE s.written OR s.n IS DISTINCT FROM d.n"
)
# Beyond this many transactions since the last refresh, age() could wrap: rebuild everything.
_MAX_GAP = 1_000_000_000


def refresh(source: ChargingSource) -> int:
    """Bring `source`'s days of `ChargingDay` and `ChargingAttempt` in step with its sessions;
    returns how many rows it wrote. When nothing changed: one pass over the source's sessions, no
    write."""
    with transaction.atomic(), connection.cursor() as cursor:
        # One refresh of a source at a time; the second waits, then finds what the first left.
        mark, _created = ChargingDayRefresh.objects.select_for_update().get_or_create(
            source=source, defaults={"xid": -1}
        )
        cursor.execute(
            "SELECT pg_current_xact_id()::text::bigint, pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        )
        current, horizon = cursor.fetchone()
        gap = current - mark.xid
        written = 0
        if mark.xid < 0 or gap > _MAX_GAP:  # never refreshed (or too long ago): every day
            where, params = "s.source_id = %(source)s", {"source": source.pk}
            cursor.execute("SET LOCAL work_mem = '64MB'")  # a whole source's groups hash in memory
        else:
            cursor.execute(_STALE, {"source": source.pk, "gap": gap})
            days = [day for (day,) in cursor.fetchall()]
            where = "s.source_id = %(source)s AND s.local_date = ANY(%(days)s)"
            params = {"source": source.pk, "days": days} if days else None
        if params:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table} s WHERE {where}", params)
            for sql in (AGGREGATE, GROUP_ATTEMPTS):
                cursor.execute(sql.format(where=where), params)
                written += cursor.rowcount
        # Transactions older than the horizon had all ended when this refresh looked: whatever they
        # wrote is in. One still running then (xid >= horizon) is looked at again next time.
        mark.xid = horizon
        mark.save(update_fields=["xid", "refreshed_at"])
    return written
