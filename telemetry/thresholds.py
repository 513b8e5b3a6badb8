"""Readings → alerts: the readings stored since the last check, against the tenant's rules for
their kind (see telemetry.live for when checks run)."""

from bisect import bisect_right
from itertools import accumulate

import numpy as np

from alerts import services as alerts
from alerts.evaluation import out_of_bounds
from alerts.selectors import sources_with_open_alerts
from telemetry.batch import ReadingBatch
from telemetry.selectors import REF_FIELDS, asset_model, asset_source

# Values a rule can watch: numbers only (arrays are summarised by the min/max columns).
WATCHED = {
    "battery": (
        "voltage", "current", "power", "temperature", "temperature_min", "temperature_max", "soc", "soh",
        "cell_voltage_min", "cell_voltage_max", "error_flags",
    ),
    "meter": ("power", "voltage", "current", "pf", "frequency", "temperature", "energy_wh"),
}  # fmt: skip


def evaluate_batches(batches: list[ReadingBatch]) -> None:
    """Each asset of `batches` (of one kind) once, over all its readings: its latest value of each
    watched metric, and their lowest and highest (a rule for "above" tests the highest, so a spike
    inside a batch counts). The per-asset figures come from numpy over the readings ordered by asset and time, and
    so does a first verdict: an asset that no rule (of any scope) finds out of bounds and that has
    no open alert has nothing to raise or resolve, and is skipped. A busy tenant's second of
    readings is checked in a few passes per metric, and only assets in trouble cost more."""
    kind = batches[0].kind
    rules = alerts.rules_for(kind)
    ruled = {rule.metric for rule in rules}
    watched = [name for name in WATCHED[kind] if name in ruled and any(name in batch.values for batch in batches)]
    if not watched:
        return
    # The batches side by side, from the numpy copies their storing already made.
    offsets = [0, *accumulate(map(len, batches))]
    assets = np.concatenate([batch.ids() for batch in batches])
    order = np.lexsort((np.concatenate([batch.micros_array() for batch in batches]), assets))
    assets = assets[order]
    starts = np.flatnonzero(np.r_[True, assets[1:] != assets[:-1]])
    positions = np.arange(len(order))
    figures = {}
    for name in watched:
        values = np.concatenate(
            [batch.floats(name) if name in batch.values else np.full(len(batch), np.nan) for batch in batches]
        )[order]  # NaN where a reading lacks the metric: fmin/fmax skip them
        last = np.maximum.reduceat(np.where(np.isnan(values), -1, positions), starts)
        latest = np.where(last >= 0, values[last], np.nan)
        figures[name] = (np.fmin.reduceat(values, starts), np.fmax.reduceat(values, starts), last, latest)
    asset_ids = assets[starts]
    model = asset_model(kind)
    source_ids = site_ids = np.full(len(starts), "", dtype=object)
    if any(rule.scope != "all" for rule in rules):  # scoped rules apply to some assets only
        rows = model.objects.filter(pk__in=asset_ids.tolist()).values_list("pk", REF_FIELDS[kind], "site__code")
        named = {pk: (ref, site) for pk, ref, site in rows}
        source_ids = np.array([named.get(pk, ("", ""))[0] for pk in asset_ids.tolist()], dtype=object)
        site_ids = np.array([named.get(pk, ("", ""))[1] for pk in asset_ids.tolist()], dtype=object)
    troubled = out_of_bounds(
        rules,
        {name: (lows, highs, latest) for name, (lows, highs, _last, latest) in figures.items()},
        source_ids=source_ids,
        site_ids=site_ids,
    )
    open_refs = sources_with_open_alerts(kind)
    if open_refs:
        alerting = model.objects.filter(**{f"{REF_FIELDS[kind]}__in": open_refs}).values_list("pk", flat=True)
        troubled |= np.isin(asset_ids, list(alerting))
    wanted = np.flatnonzero(troubled).tolist()
    if not wanted:
        return
    ends = (np.r_[starts[1:], len(order)] - 1).tolist()
    asset_ids, order = asset_ids.tolist(), order.tolist()

    def reading(position: int) -> tuple[ReadingBatch, int]:
        """The batch and index of the reading at `position` in asset-and-time order."""
        index = order[position]
        number = bisect_right(offsets, index) - 1
        return batches[number], index - offsets[number]

    found = model.objects.select_related("site").in_bulk([asset_ids[number] for number in wanted])
    with alerts.batch():
        for number in wanted:
            asset = found.get(asset_ids[number])
            if asset is None:
                continue
            metrics, extremes = {}, {}
            for name, (lows, highs, last, _latest) in figures.items():
                at = int(last[number])
                if at < 0:
                    metrics[name] = None
                    continue
                # The value as it came (an integer stays one), from the latest reading that has it.
                batch, index = reading(at)
                metrics[name] = batch.values[name][index]
                extremes[name] = (float(lows[number]), float(highs[number]))
            batch, index = reading(ends[number])
            alerts.evaluate_metrics(
                source=asset_source(kind, asset), metrics=metrics, extremes=extremes, at=batch.times[index], rules=rules
            )
