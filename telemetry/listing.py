"""Asset lists as people filter them: by site, type, chemistry, state and text, with each asset's
latest reading and state. Shared by the portal pages, their exports and the API's list exports."""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import exports
from telemetry import selectors
from telemetry.forms import BatteryForm, MeterForm
from telemetry.metrics import METRIC_BY_NAME
from telemetry.models import Battery, Chemistry, Meter
from telemetry.series import latest


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    form: type
    section: str
    ref_field: str
    search_fields: tuple[str, ...]
    label: str
    label_plural: str


KINDS = {
    "battery": Kind("battery", Battery, BatteryForm, "batteries", "serial", ("name", "serial", "site__name"),
                    gettext_lazy("battery"), gettext_lazy("batteries")),
    "meter": Kind("meter", Meter, MeterForm, "meters", "device_id", ("name", "device_id", "site__name"),
                  gettext_lazy("meter"), gettext_lazy("meters")),
}  # fmt: skip


def kind_named(kind: str) -> Kind:
    if kind not in KINDS:
        raise Http404
    return KINDS[kind]


def filtered(kind: Kind, params):
    assets = kind.model.objects.select_related("site", "type").order_by("site__name", "name")
    if params.get("site"):
        assets = assets.filter(site__code=params["site"])
    if params.get("type", "").isdigit():
        assets = assets.filter(type_id=int(params["type"]))
    if kind.name == "battery" and params.get("chemistry") in Chemistry.values:
        assets = assets.filter(chemistry=params["chemistry"])
    if params.get("state") in selectors.ASSET_STATES:
        assets = selectors.filter_by_state(assets, params["state"])
    search = params.get("search", "").strip()
    if search:
        query = Q()
        for field in kind.search_fields:
            query |= Q(**{f"{field}__icontains": search})
        assets = assets.filter(query)
    return assets


def rows_with_latest(kind: Kind, assets) -> list[dict]:
    last = latest(kind.name, [a.pk for a in assets])
    states = selectors.asset_states(kind.name, assets, last)
    return [{"asset": a, "latest": last.get(a.pk), "state": states[a.pk]} for a in assets]


EXPORT_METRICS = {
    "battery": ["voltage", "current", "soc", "temperature"],
    "meter": ["power", "voltage", "energy_total_wh"],
}


def asset_list_table(kind: Kind, params, time_zone: str) -> exports.Table:
    rows = rows_with_latest(kind, list(filtered(kind, params)[:10000]))
    metrics = EXPORT_METRICS[kind.name]
    catalogue = METRIC_BY_NAME[kind.name]
    columns = [
        exports.Column("name", _("Name")),
        exports.Column("ref", _("Serial") if kind.name == "battery" else _("Device id")),
        exports.Column("site", _("Site")),
        exports.Column("type", _("Type")),
        exports.Column("state", _("State")),
        exports.Column("seen", _("Last reading"), kind="datetime"),
        *[exports.Column(m, str(catalogue[m].label), unit=catalogue[m].unit, kind="number") for m in metrics],
    ]
    return exports.Table(
        title=str(kind.label_plural).capitalize(),
        columns=columns,
        rows=[
            (
                row["asset"].name,
                getattr(row["asset"], kind.ref_field),
                row["asset"].site.name,
                row["asset"].type.name if row["asset"].type else "",
                row["state"],
                row["latest"]["time"] if row["latest"] else None,
                *[(row["latest"]["values"].get(m) if row["latest"] else None) for m in metrics],
            )
            for row in rows
        ],
        summary=[(_("Assets"), str(len(rows)))],
        time_zone=time_zone,
    )
