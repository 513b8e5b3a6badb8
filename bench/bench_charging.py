"""Charging at the customer's scale: 1,000,000 sessions, 200 charge points, 2 years, 500 faults.

Builds the customer's KPI database in a MariaDB (tests/mariadb.py: the local one, or one started
here) with charging/demo.py's generator and LOAD DATA LOCAL INFILE, then measures:
  - the full import from MariaDB (rows/s), against a bare SELECT of the same rows through
    mysqlclient's SSCursor (the ceiling) and the reader alone (the SELECT and the rows as dicts);
    target: import ≥ 50 % of the ceiling. Under target (or with --profile) a 200,000-row import is
    profiled with pyinstrument and its hot spots printed;
  - an incremental import that finds nothing new (target ≤ 1 s);
  - each analysis through `GET /api/v1/charging/analyses/<name>` (in this process, the whole Django
    stack, Redis cache on): median of 5, default filters (the newest month, every site) and the
    whole period, each with the cache defeated (the data generation bumped before each request),
    then the repeated request (a cache hit). Targets: month ≤ 100 ms, whole period ≤ 300 ms;
  - the same headline figures with pandas from a DataFrame already in memory, and ours / pandas.
The PostgreSQL side is filled by the import itself, which is what is measured.

    .venv/bin/python bench/bench_charging.py [--sessions 1000000] [--charge-points 200] [--years 2]
                                             [--faults 500] [--profile] [--database NAME]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ["VOLTWATCH_ENV"] = "test"
os.environ["DEBUG"] = "0"

from bench.setup import recreate_database, settle_database  # noqa: E402

DATABASE = "voltwatch_bench_charging"
MYSQL_DATABASE = "voltwatch_bench_charging"
SLUG = "benchcharging"
REPEATS = 5
PROFILE_ROWS = 200_000
EVI, DS = "Erreur_EVI", "Erreur_DownStream"
FILTERABLE_MOMENTS = ["Init", "Lock Connector", "CableCheck", "Charge", "Fin de charge"]


def timed(function, repeats: int = REPEATS) -> tuple[float, object]:
    """(median seconds of `repeats` calls, the last result)."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# --- the source database ---------------------------------------------------------------------------


def _tsv(value) -> str:
    if value is None:
        return "\\N"
    return str(value)


def build_mysql(server, options) -> dict:
    """The customer's three tables in a fresh MariaDB database; returns the timings and counts."""
    import MySQLdb

    from charging import demo
    from charging.sources import mysql_schema

    server.create_database(MYSQL_DATABASE)
    connection = MySQLdb.connect(**server.connect_args(MYSQL_DATABASE), local_infile=1)
    with connection.cursor() as cursor:
        mysql_schema.create_tables(cursor)
    header = demo.SESSION_HEADER
    started = time.perf_counter()
    rows = 0
    end = date.today()
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as out:
        path = out.name
        for row in demo.generate_sessions(options.sessions, options.charge_points, options.years, end=end):
            out.write("\t".join([_tsv(row[c]) for c in header]) + "\n")
            rows += 1
    generated = time.perf_counter() - started
    started = time.perf_counter()
    listed = ", ".join(f"`{c}`" for c in header)
    with connection.cursor() as cursor:
        cursor.execute(
            f"LOAD DATA LOCAL INFILE %s INTO TABLE kpi_sessions CHARACTER SET utf8mb4 "
            f"FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' ({listed})",
            [path],
        )
    connection.commit()
    loaded = time.perf_counter() - started
    os.unlink(path)
    faults = demo.generate_faults(options.faults, options.charge_points, options.years, end=end)
    world = demo.layout(options.charge_points)
    demo.mysql_write(connection, faults=faults, vehicles=demo.mac_lookup(world))
    connection.close()
    return {"rows": rows, "generated": generated, "loaded": loaded, "faults": len(faults)}


def ceiling(source) -> tuple[float, float, int]:
    """(seconds for a bare SSCursor SELECT of the import's columns, seconds for the reader's dicts, rows)."""
    import MySQLdb.cursors

    from charging.sources.base import BATCH_ROWS
    from charging.sources.mysql import MysqlReader

    reader = MysqlReader(source)
    sql, _fields, params = reader._select("sessions")
    started = time.perf_counter()
    cursor = MySQLdb.cursors.SSCursor(reader.connection)
    cursor.execute(sql, params)
    rows = 0
    while batch := cursor.fetchmany(BATCH_ROWS):
        rows += len(batch)
    cursor.close()
    bare = time.perf_counter() - started
    started = time.perf_counter()
    for _batch in reader.sessions(None):
        pass
    dicts = time.perf_counter() - started
    reader.close()
    return bare, dicts, rows


# --- pandas: the same headline figures from a DataFrame in memory ----------------------------------


SITE_NAMES: dict[int, str] = {}


def load_frames():
    import pandas as pd
    from django.db import connection

    columns = [
        "site_id", "charge_point_id", "started_at", "local_date", "local_hour", "duration_s", "is_ok", "error_type",
        "moment", "moment_group", "energy_kwh", "mean_power_kw", "max_power_kw", "soc_start", "soc_end", "evi_code",
        "downstream_code", "evi_step", "mac", "vehicle", "charge_900v", "external_id",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM charging_chargingsession")
        sessions = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
        cursor.execute("SELECT site_id, started_at, ended_at, label, equipment FROM charging_fault")
        names = ["site_id", "started_at", "ended_at", "label", "equipment"]
        faults = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
    from sites.selectors import sites as site_rows

    SITE_NAMES.update(site_rows().values_list("pk", "name"))
    sessions["local_date"] = pd.to_datetime(sessions["local_date"])
    sessions["started_at"] = pd.to_datetime(sessions["started_at"], utc=True)
    for name in ("error_type", "moment", "moment_group", "mac", "vehicle"):
        sessions[name] = sessions[name].astype("category")
    for name in ("energy_kwh", "mean_power_kw", "max_power_kw", "soc_start", "soc_end"):
        sessions[name] = sessions[name].astype("float64")
    sessions["charge_900v"] = sessions["charge_900v"].astype("boolean")
    faults["started_at"] = pd.to_datetime(faults["started_at"], utc=True)
    faults["ended_at"] = pd.to_datetime(faults["ended_at"], utc=True)
    return sessions, faults


def _period(df, filters):
    import pandas as pd

    d1, d2 = pd.Timestamp(filters.d1), pd.Timestamp(filters.d2)
    return df[(df["local_date"] >= d1) & (df["local_date"] <= d2)]


def _failed(df):
    return (~df["is_ok"]) & df["error_type"].isin([EVI, DS]) & df["moment"].isin(FILTERABLE_MOMENTS)


def pd_general(df, faults, filters):
    sel = _period(df, filters)
    failed = _failed(sel)
    total, nfailed = len(sel), int(failed.sum())
    per_site = sel.assign(failed=failed).groupby("site_id", observed=True).agg(total=("is_ok", "size"),
                                                                               failed=("failed", "sum"))  # fmt: skip
    sel[failed].groupby(["site_id", "moment_group"], observed=True).size()
    sel[failed].groupby("moment", observed=True).size()
    return {"total": total, "ok": total - nfailed, "failed": nfailed,
            "success_pct": round((total - nfailed) / total * 100, 2) if total else 0.0,
            "sites": len(per_site)}  # fmt: skip


def pd_sites(df, faults, filters):
    sel = _period(df, filters)
    failed = _failed(sel)
    per_site = sel.assign(failed=failed).groupby("site_id", observed=True)["failed"].agg(["size", "sum"])
    heat = sel.groupby(["site_id", "local_hour"], observed=True).size().unstack(fill_value=0)
    peak = heat.idxmax(axis=1)
    cumulative = heat.cumsum(axis=1)
    median_hour = cumulative.ge(cumulative.iloc[:, -1] / 2, axis=0).idxmax(axis=1)
    by_month = sel.assign(failed=failed).groupby(["site_id", sel["local_date"].dt.to_period("M")])["failed"].agg(
        ["size", "sum"])  # fmt: skip
    total, nfailed = len(sel), int(failed.sum())
    return {"total": total, "ok": total - nfailed, "failed": nfailed,
            "success_pct": round((total - nfailed) / total * 100, 2) if total else 0.0, "sites": len(per_site),
            "peak_hours": int(peak.mode().iloc[0]), "median_hour": int(median_hour.median()),
            "months": len(by_month)}  # fmt: skip


def pd_statistics(df, faults, filters):
    sel = _period(df, filters)
    ok = sel[sel["is_ok"]]
    energy_set = sel[sel["is_ok"] | (sel["moment"] == "Fin de charge")]["energy_kwh"]
    per_site_day = ok.groupby(["site_id", "local_date"], observed=True).size()
    per_day = per_site_day.groupby(level="local_date").sum()
    vehicles = sel[sel["vehicle"] != ""].groupby("vehicle", observed=True)["is_ok"].agg(["size", "sum"])
    ok.groupby("site_id", observed=True)["duration_s"].sum()
    ok.groupby("charge_point_id", observed=True)["duration_s"].sum()

    def r2(value):
        return round(float(value), 2)

    return {
        "total": len(sel), "ok": len(ok), "energy_total_kwh": r2(sel["energy_kwh"].sum()),
        "energy_mean_kwh": r2(energy_set.mean()), "energy_max_kwh": r2(energy_set.max()),
        "mean_power_mean_kw": r2(ok["mean_power_kw"].mean()), "mean_power_max_kw": r2(ok["mean_power_kw"].max()),
        "max_power_mean_kw": r2(ok["max_power_kw"].mean()), "max_power_max_kw": r2(ok["max_power_kw"].max()),
        "soc_start_mean": r2(ok["soc_start"].mean()), "soc_end_mean": r2(ok["soc_end"].mean()),
        "soc_gain_mean": r2((ok["soc_end"] - ok["soc_start"]).mean()),
        "duration_mean_min": r2(ok["duration_s"].mean() / 60),
        "charges_900v": int(sel["charge_900v"].fillna(False).sum()),
        "days": len(per_day), "ok_per_day_mean": r2(per_day.mean()), "ok_per_day_median": r2(per_day.median()),
        "busiest_ok": int(per_site_day.max()), "vehicles": len(vehicles),
    }  # fmt: skip


def pd_suspicious(df, faults, filters):
    sel = _period(df, filters)
    suspicious = sel[sel["is_ok"] & (sel["energy_kwh"] < 1)]
    return {"count": len(suspicious)}


def pd_evolution(df, faults, filters):
    import pandas as pd

    month = df["local_date"].dt.to_period("M")
    last_complete = (pd.Timestamp(date.today()).to_period("M")) - 1
    good = df["is_ok"] | ((~df["is_ok"]) & (df["moment"] == "Fin de charge"))
    rates = good.groupby(month).mean()[lambda s: s.index <= last_complete] * 100
    return {"months": len(rates), "last_rate": round(float(rates.iloc[-1]), 2) if len(rates) else None}


def pd_faults(df, faults, filters):
    import pandas as pd

    d1 = pd.Timestamp(filters.d1, tz="Europe/Paris").tz_convert("UTC")
    d2x = pd.Timestamp(filters.d2 + timedelta(days=1), tz="Europe/Paris").tz_convert("UTC")
    sel = faults[(faults["started_at"] < d2x) & (faults["ended_at"].isna() | (faults["ended_at"] >= d1))]
    now = pd.Timestamp(datetime.now(tz=UTC))
    days = (sel["ended_at"].fillna(now) - sel["started_at"]).dt.total_seconds() / 86400
    return {
        "faults": len(sel), "in_progress": int(sel["ended_at"].isna().sum()),
        "resolved": int(sel["ended_at"].notna().sum()), "mean_days": round(float(days.mean()), 2) if len(sel) else 0,
        "top_equipment": sel["equipment"].value_counts().head(5).index.tolist(),
        "top_faults": sel["label"].value_counts().head(5).index.tolist(),
    }  # fmt: skip


def pd_multiple_attempts(df, faults, filters):
    sel = _period(df, filters)
    sel = sel[sel["mac"] != ""]
    keys = [sel["site_id"], sel["local_date"], sel["local_hour"], sel["mac"].astype(str)]
    sizes = sel.groupby(keys, observed=True).size()
    groups = sizes[sizes >= 2]
    return {"groups": len(groups), "sessions": int(groups.sum())}


def pd_alerts(df, faults, filters):
    import numpy as np

    sel = _period(df, filters)
    failed = sel[_failed(sel)]
    window = np.timedelta64(12 * 3600, "s")
    alerts = occurrences = 0
    keys = ["site_id", "charge_point_id", "error_type", "moment", "evi_code", "downstream_code"]
    for _key, group in failed.groupby(keys, observed=True, dropna=False):
        if len(group) < 3:
            continue
        times = np.sort(group["started_at"].to_numpy(dtype="datetime64[s]"))
        i = 0
        while i < len(times):
            j = int(np.searchsorted(times, times[i] + window, side="right"))
            if j - i >= 3:
                alerts += 1
                occurrences += j - i
                i = j
            else:
                i += 1
    return {"alerts": alerts, "occurrences": occurrences}


def pd_overview(df, faults, filters):
    return {"active_faults": int(faults["ended_at"].isna().sum()), **pd_suspicious(df, faults, filters),
            **pd_multiple_attempts(df, faults, filters), **pd_alerts(df, faults, filters)}  # fmt: skip


def pd_errors_by_moment(df, faults, filters):
    sel = _period(df, filters)
    failed = sel[_failed(sel)]
    evi = failed[failed["error_type"] == EVI].groupby(["moment", "evi_step", "evi_code"], observed=True).size()
    ds = failed[failed["error_type"] == DS].groupby(["moment", "evi_step", "downstream_code"], observed=True).size()
    failed.groupby(["site_id", "moment_group"], observed=True).size()
    evi.nlargest(3), ds.nlargest(3)
    total, nfailed = len(sel), len(failed)
    return {"total": total, "failed": nfailed, "failed_evi": int((failed["error_type"] == EVI).sum()),
            "failed_downstream": int((failed["error_type"] == DS).sum()),
            "success_pct": round((total - nfailed) / total * 100, 2) if total else 0.0}  # fmt: skip


def pd_pivot(df, faults, filters):
    import pandas as pd

    sel = _period(df, filters)
    failed = sel[_failed(sel)]
    two = failed["site_id"].value_counts().head(2).index
    part = failed[failed["site_id"].isin(two)]
    evi = pd.crosstab([part["site_id"], part["charge_point_id"]], [part["evi_step"], part["evi_code"]])
    ds = pd.crosstab([part["site_id"], part["charge_point_id"]], [part["evi_step"], part["downstream_code"]])
    return {"rows": len(evi) + len(ds)}


def pd_charge_points(df, faults, filters):
    import pandas as pd

    sel = _period(df, filters)
    site = min(sel["site_id"].unique(), key=lambda pk: SITE_NAMES[pk])  # as ours: the first by name
    part = sel[sel["site_id"] == site]
    failed = _failed(part)
    per_point = part.assign(failed=failed).groupby("charge_point_id", observed=True)["failed"].agg(["size", "sum"])
    failures = part[failed]
    pd.crosstab(failures["downstream_code"], failures["moment"])
    pd.crosstab(failures["evi_code"], failures["moment"])
    total, nfailed = len(part), int(failed.sum())
    return {"points": len(per_point), "total": total, "ok": total - nfailed, "failed": nfailed,
            "success_pct": round((total - nfailed) / total * 100, 2) if total else 0.0}  # fmt: skip


def pd_specific_error(df, faults, filters):
    sel = _period(df, filters)
    unknown = sel[(sel["vehicle"] == "") & (sel["mac"] != "")]
    prefixes = unknown.groupby(unknown["mac"].astype(str).str[:8])["is_ok"].agg(["size", "mean"])
    return {"prefixes": len(prefixes.nlargest(10, "size"))}


PANDAS = {
    "overview": pd_overview, "general": pd_general, "sites": pd_sites, "charge-points": pd_charge_points,
    "statistics": pd_statistics, "pivot": pd_pivot, "multiple-attempts": pd_multiple_attempts,
    "suspicious": pd_suspicious, "errors-by-moment": pd_errors_by_moment, "specific-error": pd_specific_error,
    "alerts": pd_alerts, "evolution": pd_evolution, "faults": pd_faults,
}  # fmt: skip


# --- the run ---------------------------------------------------------------------------------------


def profile_import(source_fields: dict, server) -> str:
    """A 200,000-row import of its own (a second source on a copy of part of the table) under
    pyinstrument; the source and its sessions are deleted afterwards."""
    import MySQLdb
    from pyinstrument import Profiler

    from charging.models import ChargingSource, ImportTrigger
    from charging.services import charging_import_now

    connection = MySQLdb.connect(**server.connect_args(MYSQL_DATABASE))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS kpi_sessions_profile")
        cursor.execute("CREATE TABLE kpi_sessions_profile LIKE kpi_sessions")
        cursor.execute(f"INSERT INTO kpi_sessions_profile SELECT * FROM kpi_sessions LIMIT {PROFILE_ROWS}")
    connection.commit()
    source = ChargingSource.objects.create(**{**source_fields, "name": "Bench (profile)",
                                              "sessions_table": "kpi_sessions_profile"})  # fmt: skip
    profiler = Profiler(interval=0.002)
    profiler.start()
    run = charging_import_now(source=source, trigger=ImportTrigger.COMMAND, full=True)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    seconds = (run.finished_at - run.started_at).total_seconds()
    source.delete()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE kpi_sessions_profile")
    connection.close()
    return f"profiled import: {run.rows_read:,} rows in {seconds:.1f} s under the profiler\n" + text


def api_times(http, name: str, params: dict, bump) -> tuple[float, float]:
    """(median cold ms, median cached ms) of GET /api/v1/charging/analyses/<name>."""
    url = f"/api/v1/charging/analyses/{name}"
    cold = []
    for _ in range(REPEATS):
        bump()
        started = time.perf_counter()
        response = http.get(url, params)
        cold.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params}: {response.status_code} {response.content[:300]!r}")
    http.get(url, params)
    hit = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        http.get(url, params)
        hit.append(time.perf_counter() - started)
    return statistics.median(cold) * 1000, statistics.median(hit) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--charge-points", type=int, default=200)
    parser.add_argument("--years", type=float, default=2)
    parser.add_argument("--faults", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="profile an import even when on target")
    parser.add_argument("--database", default=DATABASE)
    options = parser.parse_args()

    recreate_database(options.database)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as HttpClient
    from django_tenants.utils import schema_context

    from accounts.services import create_api_key
    from charging import importing
    from charging.analyses import NAMES, analysis
    from charging.api.analyses import request_filters
    from charging.models import ChargingSession, ChargingSource, ImportTrigger, SourceKind
    from charging.services import charging_import_now
    from provisioning.services import create_client
    from tests.mariadb import mariadb_server

    call_command("migrate_schemas", interactive=False, verbosity=0)
    client = create_client(name="Bench Charging", slug=SLUG, admin_email="a@b.test", admin_password="x" * 12).client
    client.api_rate = "1000000/min"
    client.save(update_fields=["api_rate"])
    host = client.get_primary_domain().domain

    server = mariadb_server()
    built = build_mysql(server, options)
    lines = [
        f"Source: MariaDB {server.host}:{server.port}, {built['rows']:,} sessions ({options.charge_points} charge "
        f"points, {options.years:g} years), {built['faults']} faults; generated in {built['generated']:.0f} s, "
        f"LOAD DATA in {built['loaded']:.0f} s",
    ]
    print(lines[0], flush=True)

    with schema_context(SLUG):
        _key, token = create_api_key(name="bench", scopes=["read"])
        login = {k: v for k, v in server.connect_args().items() if k in ("host", "port", "user", "password")}
        fields = {"kind": SourceKind.MYSQL, "time_zone": "Europe/Paris", "database": MYSQL_DATABASE, **login}
        source = ChargingSource.objects.create(name="Bench", **fields)

        started = time.perf_counter()
        run = charging_import_now(source=source, trigger=ImportTrigger.COMMAND, full=True)
        imported = time.perf_counter() - started
        if run.status != "succeeded":
            raise SystemExit(f"import failed: {run.error}")
        bare, dicts, rows = ceiling(source)
        ours, top = rows / imported, rows / bare  # the faults and vehicles read too are a few hundred rows
        lines += [
            f"Full import from MariaDB: {run.rows_read:,} rows read (sessions, faults, vehicles), "
            f"{run.rows_created:,} created, {run.rows_rejected} rejected in {imported:.1f} s = {ours:,.0f} sessions/s",
            f"Ceiling, bare SELECT through SSCursor: {rows:,} rows in {bare:.1f} s = {top:,.0f} rows/s; the reader "
            f"alone (SELECT + dicts): {rows / dicts:,.0f} rows/s",
            f"Ours / ceiling: {ours / top * 100:.0f} % (target >= 50 %)",
        ]
        print("\n".join(lines[1:]), flush=True)
        profile = ""
        if options.profile or ours / top < 0.5:
            profile = profile_import(fields, server)

        started = time.perf_counter()
        again = charging_import_now(source=source, trigger=ImportTrigger.COMMAND)
        incremental = time.perf_counter() - started
        lines.append(
            f"Incremental import with nothing new: {incremental * 1000:.0f} ms ({again.rows_read:,} rows re-read "
            f"within the {source.margin_hours} h margin, {again.rows_created} created, {again.rows_updated} "
            "updated; target <= 1 s)"
        )
        print(lines[-1], flush=True)
        stored = ChargingSession.objects.count()
    settle_database()

    with schema_context(SLUG):
        started = time.perf_counter()
        sessions_df, faults_df = load_frames()
        frame_s = time.perf_counter() - started
        default = request_filters({})
        # "One month": the last complete one (the default, the newest month, may have only a few days yet).
        month_query = {"period": "month", "d1": (default.d1 - timedelta(days=1)).replace(day=1).isoformat()}
        month = request_filters(month_query)
        whole = request_filters({"period": "all"})
    lines.append(f"pandas DataFrame of the {stored:,} stored sessions loaded in {frame_s:.1f} s (not counted below)")
    lines.append(
        f"Month: {month.d1} .. {month.d2} (the last complete month; the default would be {default.d1} .. "
        f"{default.d2}), every site; whole period: {whole.d1} .. {whole.d2}"
    )
    print("\n".join(lines[-2:]), flush=True)

    http = HttpClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Api-Key {token}")

    def bump():
        with schema_context(SLUG):
            importing.generation_bump()

    header = (f"{'analysis':<18} {'month ms':>9} {'whole ms':>9} {'cached ms':>9} {'pandas month':>12} "
              f"{'pandas whole':>12} {'ours/pandas (m, w)':>19}")  # fmt: skip
    table = [header, "-" * len(header)]
    print("\n" + header, flush=True)
    for name in NAMES:
        try:
            module = analysis(name)
        except ModuleNotFoundError:
            module = None
        pandas_fn = PANDAS.get(name)
        pm = pw = None
        if pandas_fn:
            pm = timed(lambda f=pandas_fn: f(sessions_df, faults_df, month))[0] * 1000
            pw = timed(lambda f=pandas_fn: f(sessions_df, faults_df, whole))[0] * 1000
        pandas_text = f"{pm:>12.1f} {pw:>12.1f}" if pm is not None else f"{'-':>12} {'-':>12}"
        if module is None:
            row = f"{name:<18} {'(not written yet: skipped)':>29} {pandas_text}"
        else:
            cold_m, hit_m = api_times(http, name, month_query, bump)
            cold_w, _hit_w = api_times(http, name, {"period": "all"}, bump)
            ratio = f"{cold_m / pm:>8.2f}, {cold_w / pw:>8.2f}" if pm else f"{'-':>19}"
            row = f"{name:<18} {cold_m:>9.1f} {cold_w:>9.1f} {hit_m:>9.1f} {pandas_text} {ratio:>19}"
        table.append(row)
        print(row, flush=True)
    connection.set_schema_to_public()

    # The figures both sides compute, side by side (where our analysis exists).
    checks = []
    with schema_context(SLUG):
        for name in NAMES:
            try:
                module = analysis(name)
            except ModuleNotFoundError:
                continue
            if name not in PANDAS:
                continue
            ours_fig = module.run(month).figures
            theirs = PANDAS[name](sessions_df, faults_df, month)
            common = {k: (ours_fig[k], theirs[k]) for k in theirs if k in ours_fig}
            if common:
                agree = all(a == b for a, b in common.values())
                checks.append(f"  {name}: {'agree' if agree else 'DIFFER'} on {common}")

    print("\n" + "=" * 100)
    print("\n".join(lines))
    print("Analyses through GET /api/v1/charging/analyses/<name> (in-process Django client: the whole stack, "
          "Redis cache on;\n'month'/'whole' with the cache defeated, 'cached' the repeated request), median of "
          f"{REPEATS}; pandas: the same headline figures from the DataFrame in memory:")  # fmt: skip
    print("\n".join(table))
    print("Targets: month <= 100 ms, whole period <= 300 ms per analysis; incremental import <= 1 s; import >= 50 % "
          "of the ceiling.")  # fmt: skip
    if checks:
        print("Figures ours vs pandas (month):")
        print("\n".join(checks))
    if profile:
        print("\n" + profile[:12000])


if __name__ == "__main__":
    main()
