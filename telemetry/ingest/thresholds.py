"""Readings → alerts, durably: what the ingest transaction marks unchecked, checked against the
tenant's rules by the threshold checker (`telemetry.ingest.checker`), whichever process stored it.

The ingest statement widens each asset's unchecked range (`mark_unchecked_sql`), so the mark
commits with the readings or not at all. A check (`check_unchecked`) claims the ranges under a
lease, reads each asset's figures over its range from the readings table (the lowest, highest and
latest value of each watched metric: a rule for "above" tests the highest, so a spike inside the
range counts), evaluates them and releases the claim. A check that fails or dies leaves its lease
to expire; the next one checks the same range again (alerts raise and resolve idempotently).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from alerts import services as alerts
from alerts.evaluation import out_of_bounds
from alerts.selectors import sources_with_open_alerts
from telemetry.ingest.batch import ReadingBatch
from telemetry.metrics import READING_TABLES
from telemetry.selectors import REF_FIELDS, asset_model, asset_source

logger = logging.getLogger(__name__)

# Values a rule can watch: numbers only (arrays are summarised by the min/max columns).
WATCHED = {
    "battery": (
        "voltage", "current", "power", "temperature", "temperature_min", "temperature_max", "soc", "soh",
        "cell_voltage_min", "cell_voltage_max", "error_flags",
    ),
    "meter": ("power", "voltage", "current", "pf", "frequency", "temperature", "energy_wh"),
}  # fmt: skip
TABLE = "telemetry_unchecked"
LEASE_S = 60  # longer than any check takes; a checker that died is replaced after it
CLAIM_LIMIT = 2000  # assets per claim: a backlog is worked through in rounds of bounded cost


def mark_unchecked_sql(batch: ReadingBatch) -> tuple[str, list]:
    """The statement (and its parameters) that marks each asset of `batch` unchecked from its
    first to its last reading time, widening a mark already there. Assets in ascending order, the
    order every writer of these rows locks them in, so two of them cannot deadlock."""
    ids = batch.ids()
    order = np.lexsort((batch.micros_array(), ids))
    ordered = ids[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(order)] - 1
    times = batch.times
    statement = (
        f"INSERT INTO {TABLE} AS u (kind, asset_id, since, until) "
        "SELECT %s, unnest(%s::bigint[]), unnest(%s::timestamptz[]), unnest(%s::timestamptz[]) "
        "ON CONFLICT (kind, asset_id) DO UPDATE "
        "SET since = LEAST(u.since, EXCLUDED.since), until = GREATEST(u.until, EXCLUDED.until)"
    )
    return statement, [
        batch.kind,
        ordered[starts].tolist(),
        [times[index] for index in order[starts].tolist()],
        [times[index] for index in order[ends].tolist()],
    ]


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    asset_id: int
    since: datetime
    until: datetime


def check_unchecked(*, limit: int = CLAIM_LIMIT) -> int:
    """Check the current tenant's unchecked readings (up to `limit` assets); the number checked."""
    claimed = _claim(limit)
    if not claimed:
        return 0
    for kind in READING_TABLES:
        ranges = [claim for claim in claimed if claim.kind == kind]
        if ranges:
            evaluate_ranges(kind, ranges)
    _release(claimed)
    return len(claimed)


def has_unchecked() -> bool:
    """Whether the current tenant has readings waiting for their check (claimed or not)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE})")
        return cursor.fetchone()[0]


def _claim(limit: int) -> list[Claimed]:
    """Take the unclaimed marks (and those whose checker's lease ran out, with its range), skipping
    the rows an ingest transaction holds this instant: they wait for the next round."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimable AS (
              SELECT id FROM {TABLE} WHERE lease_expires IS NULL OR lease_expires < now()
              ORDER BY kind, asset_id LIMIT %s FOR UPDATE SKIP LOCKED
            )
            UPDATE {TABLE} u SET
              checking_since = LEAST(u.since, u.checking_since),
              checking_until = GREATEST(u.until, u.checking_until),
              since = NULL, until = NULL, lease_expires = now() + %s * interval '1 second'
            FROM claimable WHERE u.id = claimable.id
            RETURNING u.id, u.kind, u.asset_id, u.checking_since, u.checking_until
            """,
            [limit, LEASE_S],
        )
        return [Claimed(*row) for row in cursor.fetchall()]


def _release(claimed: list[Claimed]) -> None:
    """The claimed ranges are checked: forget the marks that received nothing meanwhile; the others
    keep only what came since, for the next round. Rows locked in the ingest's order first."""
    ids = [claim.id for claim in claimed]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TABLE} WHERE id = ANY(%s) ORDER BY kind, asset_id FOR UPDATE", [ids])
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s) AND since IS NULL", [ids])
        cursor.execute(
            f"UPDATE {TABLE} SET checking_since = NULL, checking_until = NULL, lease_expires = NULL WHERE id = ANY(%s)",
            [ids],
        )


def _figures_sql(kind: str, watched: list[str]) -> str:
    """SQL: for each claimed (asset, since, until), the time of its latest reading in the range and,
    for each watched metric, its lowest, highest and latest value there (one scan of the range, and
    one index probe backwards per metric for the latest)."""
    table = READING_TABLES[kind]
    in_range = "r.asset_id = c.asset_id AND r.time BETWEEN c.since AND c.until"
    extremes = ", ".join(f"min(r.{name}) AS {name}_low, max(r.{name}) AS {name}_high" for name in watched)
    latest = ", ".join(
        f"(SELECT r.{name} FROM {table} r WHERE {in_range} AND r.{name} IS NOT NULL "
        f"ORDER BY r.time DESC LIMIT 1) AS {name}_latest"
        for name in watched
    )
    return (
        f"SELECT c.asset_id, f.*, {latest} "
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS c(asset_id, since, until) "
        f"CROSS JOIN LATERAL (SELECT max(r.time) AS at, {extremes} FROM {table} r WHERE {in_range}) f"
    )


def evaluate_ranges(kind: str, ranges: list[Claimed]) -> None:
    """Each asset once, over its readings in its range. A first verdict in numpy over every asset:
    one that no rule (of any scope) finds out of bounds and that has no open alert has nothing to
    raise or resolve, and is skipped; only assets in trouble cost an evaluation."""
    rules = alerts.rules_for(kind)
    ruled = {rule.metric for rule in rules}
    watched = [name for name in WATCHED[kind] if name in ruled]
    if not watched:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _figures_sql(kind, watched),
            [
                [claim.asset_id for claim in ranges],
                [claim.since for claim in ranges],
                [claim.until for claim in ranges],
            ],
        )
        rows = [row for row in cursor.fetchall() if row[1] is not None]  # no reading left in the range
    if not rows:
        return
    asset_ids = np.array([row[0] for row in rows])
    columns = {}  # metric → (lowest, highest, latest as stored)
    for number, name in enumerate(watched):
        low, high = 2 + 2 * number, 3 + 2 * number
        latest = 2 + 2 * len(watched) + number
        columns[name] = ([row[low] for row in rows], [row[high] for row in rows], [row[latest] for row in rows])

    def floats(values: list) -> np.ndarray:
        return np.array([np.nan if value is None else float(value) for value in values])

    figures = {name: tuple(map(floats, column)) for name, column in columns.items()}
    model = asset_model(kind)
    source_ids = site_ids = np.full(len(rows), "", dtype=object)
    if any(rule.scope != "all" for rule in rules):  # scoped rules apply to some assets only
        named = {
            pk: (ref, site)
            for pk, ref, site in model.objects.filter(pk__in=asset_ids.tolist()).values_list(
                "pk", REF_FIELDS[kind], "site__code"
            )
        }
        source_ids = np.array([named.get(pk, ("", ""))[0] for pk in asset_ids.tolist()], dtype=object)
        site_ids = np.array([named.get(pk, ("", ""))[1] for pk in asset_ids.tolist()], dtype=object)
    troubled = out_of_bounds(rules, figures, source_ids=source_ids, site_ids=site_ids)
    open_refs = sources_with_open_alerts(kind)
    if open_refs:
        alerting = model.objects.filter(**{f"{REF_FIELDS[kind]}__in": open_refs}).values_list("pk", flat=True)
        troubled |= np.isin(asset_ids, list(alerting))
    wanted = np.flatnonzero(troubled).tolist()
    if not wanted:
        return
    found = model.objects.select_related("site").in_bulk([int(asset_ids[number]) for number in wanted])
    with alerts.batch():
        for number in wanted:
            asset = found.get(int(asset_ids[number]))
            if asset is None:
                continue
            metrics, extremes = {}, {}
            for name, (lows, highs, latest) in columns.items():
                metrics[name] = latest[number]  # as stored: an integer stays one
                if latest[number] is not None:
                    extremes[name] = (float(lows[number]), float(highs[number]))
            alerts.evaluate_metrics(
                source=asset_source(kind, asset), metrics=metrics, extremes=extremes, at=rows[number][1], rules=rules
            )
