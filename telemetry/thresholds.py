"""Readings → alerts: the readings stored since the last check, against the tenant's rules for
their kind (see telemetry.live for when checks run)."""

from collections import defaultdict
from collections.abc import Sequence
from operator import attrgetter

from alerts import services as alerts
from telemetry.ingest import Reading
from telemetry.selectors import asset_model, asset_source

by_time = attrgetter("time")

# Values a rule can watch: numbers only (arrays are summarised by the min/max columns).
WATCHED = {
    "battery": (
        "voltage", "current", "power", "temperature", "temperature_min", "temperature_max", "soc", "soh",
        "cell_voltage_min", "cell_voltage_max", "error_flags",
    ),
    "meter": ("power", "voltage", "current", "pf", "frequency", "temperature", "energy_wh"),
}  # fmt: skip


def evaluate_readings(kind: str, readings: Sequence[Reading]) -> None:
    rules = alerts.rules_for(kind)
    if not rules:
        return
    by_asset: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_asset[reading.asset_id].append(reading)
    assets = asset_model(kind).objects.select_related("site").in_bulk(list(by_asset))
    ruled = {rule.metric for rule in rules}
    watched = [name for name in WATCHED[kind] if name in ruled]
    with alerts.batch():
        for asset_id, items in by_asset.items():
            asset = assets.get(asset_id)
            if asset is None:
                continue
            items.sort(key=by_time)
            latest = items[-1]
            metrics = {name: latest.values.get(name) for name in watched}
            extremes = {}
            values = [r.values for r in items]
            for name in watched:
                seen = [reading[name] for reading in values if name in reading]  # values hold no None
                if seen:
                    extremes[name] = (min(seen), max(seen))
                    if metrics[name] is None:
                        metrics[name] = seen[-1]
            alerts.evaluate_metrics(
                source=asset_source(kind, asset), metrics=metrics, extremes=extremes, at=latest.time, rules=rules
            )
