"""`make run`'s live telemetry: demo sites, batteries and Shelly meters, a week of history, and a
reading per asset every few seconds (a meter now and then above its threshold, a pack running warm).

Readings go through the same ingestion service as the API, so the demo exercises the real path:
outbox, rollup marks, live pages and alert rules.
"""

import math
import random
from datetime import datetime, timedelta

from django.utils import timezone

from sites.services import site_get_or_create
from telemetry import ingest, services
from telemetry.models import AssetType, Battery, Chemistry, Connector, Meter
from telemetry.series import latest

SITES = [("depot-nord", "Dépôt Nord", "Europe/Paris"), ("parking-sud", "Parking Sud", "Europe/Paris")]
BATTERIES = [
    ("NB-RACK-01", "Rack A1", "depot-nord", Chemistry.LFP, Connector.THINGSET),
    ("NB-RACK-02", "Rack A2", "depot-nord", Chemistry.LFP, Connector.THINGSET),
    ("NB-CONT-01", "Conteneur 1", "parking-sud", Chemistry.NCM, Connector.FOXBMS),
]
METERS = [
    ("shellypro1pm-demo00000001", "Borne 1", "parking-sud"),
    ("shellypro1pm-demo00000002", "Borne 2", "parking-sud"),
]
CELLS = 16
HISTORY = timedelta(days=7)
HISTORY_STEP = timedelta(minutes=5)


def ensure_demo_assets() -> bool:
    """Create the demo assets once, with a week of history. Returns True when created now."""
    if Battery.objects.filter(serial=BATTERIES[0][0]).exists():
        return False
    sites = {code: site_get_or_create(code=code, name=name, time_zone=tz)[0] for code, name, tz in SITES}
    rack, _ = AssetType.objects.get_or_create(
        name="Rack 48 V",
        defaults={
            "kind": "battery",
            "custom_fields": services.validate_custom_fields(
                [
                    {"name": "warranty_until", "label": "Garantie jusqu'au", "kind": "date"},
                    {"name": "supplier", "label": "Fournisseur", "kind": "choice", "choices": ["EDS", "Autre"]},
                ]
            ),
        },
    )
    meter_type, _ = AssetType.objects.get_or_create(name="Borne de recharge", defaults={"kind": "meter"})
    for serial, name, site, chemistry, connector in BATTERIES:
        battery = Battery.objects.create(
            site=sites[site], type=rack, name=name, serial=serial, chemistry=chemistry, connector=connector,
            nominal_voltage=51.2, capacity_ah=280, capacity_kwh=14.3, cell_count=CELLS,
            custom_values={"warranty_until": "2031-06-30", "supplier": "EDS"},
        )  # fmt: skip
        services.set_asset_thresholds("battery", battery, {"cell_overvoltage": 3.65, "cell_undervoltage": 2.8})
    for device_id, name, site in METERS:
        meter = Meter.objects.create(
            site=sites[site], type=meter_type, name=name, device_id=device_id, power_alert_threshold=3500
        )
        services.sync_meter_threshold(meter)
    now = timezone.now()
    moments = [now - HISTORY + HISTORY_STEP * i for i in range(int(HISTORY / HISTORY_STEP))]
    simulate(moments)
    return True


def _battery_values(index: int, moment: datetime, generator: random.Random) -> dict:
    hours = moment.timestamp() / 3600
    phase = hours / 6 + index  # a charge/discharge cycle every ~12 hours
    soc = 55 + 40 * math.sin(phase)
    charging = math.cos(phase) > 0
    current = (35 if charging else -30) * (0.8 + 0.4 * generator.random())
    cell_base = 3.20 + 0.15 * (soc / 100)
    # The container's cell 8 drifts high and the container runs warm: something to look at.
    drift = [0.03 if index == 2 and cell == 7 else 0 for cell in range(CELLS)]
    cells = [round(cell_base + generator.gauss(0, 0.008) + drift[cell], 3) for cell in range(CELLS)]
    warm = 9 if index == 2 else 0
    temperatures = [round(24 + 6 * abs(current) / 40 + generator.gauss(0, 0.6) + warm, 1) for _ in range(4)]
    values = {
        "voltage": round(sum(cells), 2),
        "current": round(current, 2),
        "soc": round(soc, 1),
        "soh": 97.5 - index * 1.5,
        "temperature": max(temperatures),
        "cell_voltages": cells,
        "cell_temperatures": temperatures,
        "error_flags": 0,
        "state": "charging" if charging else "discharging",
    }
    return values


def _meter_values(index: int, moment: datetime, generator: random.Random, energy: float, step_s: float) -> dict:
    busy = (moment.timestamp() // 1800 + index) % 3 != 0
    power = (generator.uniform(3000, 3900) if busy else generator.uniform(0, 15)) if generator.random() > 0.05 else 0
    voltage = generator.uniform(228, 233)
    return {
        "power": round(power, 1),
        "voltage": round(voltage, 1),
        "current": round(power / voltage, 2),
        "pf": 0.99 if busy else 0.5,
        "frequency": 50.0,
        "temperature": round(38 + power / 400, 1),
        "energy_total_wh": round(energy + power * step_s / 3600, 3),
        "output": busy,
    }


def simulate(moments: list[datetime]) -> int:
    """Readings of every demo asset at each of `moments`, stored through the ingestion service."""
    generator = random.Random()
    batteries = {b.serial: b for b in Battery.objects.filter(serial__in=[s for s, *_ in BATTERIES])}
    meters = {m.device_id: m for m in Meter.objects.filter(device_id__in=[d for d, *_ in METERS])}
    last = latest("meter", [m.pk for m in meters.values()])
    battery_readings, meter_readings = [], []
    step = (moments[1] - moments[0]).total_seconds() if len(moments) > 1 else 5.0
    for index, (serial, *_rest) in enumerate(BATTERIES):
        if serial in batteries:
            for moment in moments:
                values = _battery_values(index, moment, generator)
                battery_readings.append(ingest.Reading(batteries[serial].pk, moment, values))
    for index, (device_id, *_rest) in enumerate(METERS):
        meter = meters.get(device_id)
        if meter is None:
            continue
        energy = last.get(meter.pk, {}).get("values", {}).get("energy_total_wh", 1000.0 * (index + 1))
        for moment in moments:
            values = _meter_values(index, moment, generator, energy, step)
            energy = values["energy_total_wh"]
            meter_readings.append(ingest.Reading(meter.pk, moment, values))
    stored = ingest.store_readings("battery", battery_readings).stored if battery_readings else 0
    stored += ingest.store_readings("meter", meter_readings).stored if meter_readings else 0
    return stored


def simulate_now() -> int:
    """One reading per demo asset, now (the beat task)."""
    return simulate([timezone.now().replace(microsecond=0)])
