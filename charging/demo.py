"""`make run`'s charging data: a seeded, realistic charging-KPI database in the customer's exact
shape (CHARGING.md's column names, spaces and parentheses included), loaded through the real import.

What it holds, so that every analysis has something to show: 9 sites (French towns, in capitals as
the customer writes them) with 35 charge points (PDC1…), about 18 months up to now; more sessions
at 8–10 h and 17–20 h, fewer at weekends, a slow growth over the months; ~94 % OK; failures with
the customer's codes (`EVI Error Code`, `Downstream Code PC` including 8192, steps 0..9 and some
-1 and 3); charge points that now and then fail 3+ times the same way within 12 h (alerts); OK
sessions under 1 kWh (suspicious); drivers who try again within the hour (multiple attempts);
a `mac_lookup` with full MACs, 6- and 4-digit prefixes, and vehicles whose prefix it does not know;
equipment faults, resolved and still active.

Everything is a function of the seed and of the day: each (charge point, day) and (site, day) has
its own random generator, so the sessions of a day are the same whatever `now` is, and the live
demo only has to add the ones that ended since the last import (`simulate_now`).

Loading: a FILES source "Démo (exports)" whose CSV exports are imported with
`charging_import_now(trigger=DEMO, files=…)`; or, when CHARGING_DEMO_MYSQL_URL is set
(mysql://root@127.0.0.1:3306/voltwatch_demo_charging), the rows are written into that MySQL
database and a MYSQL source "Démo (MySQL)" imports them over MySQL.

The benchmark uses `generate_sessions(n, charge_points, years, seed)` and `generate_faults(...)`.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import random
import zoneinfo
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from urllib.parse import unquote, urlsplit

from charging import derivations
from charging.sources import mysql_schema

logger = logging.getLogger(__name__)

SEED = 12
ZONE = "Europe/Paris"
PROJECT = "Borne Express"
HISTORY_DAYS = 548  # about 18 months
SESSIONS_PER_POINT_DAY = 6.0  # on an ordinary weekday of a PDC of average use
FILES_SOURCE = "Démo (exports)"
MYSQL_SOURCE = "Démo (MySQL)"
MYSQL_URL_ENV = "CHARGING_DEMO_MYSQL_URL"

SESSION_HEADER = mysql_schema.SESSION_COLUMNS + mysql_schema.SESSION_EXTRA_COLUMNS
FAULT_HEADER = mysql_schema.FAULT_COLUMNS
VEHICLE_HEADER = mysql_schema.VEHICLE_COLUMNS

# (site, charge points, how busy): 35 PDCs.
DEMO_SITES = [
    ("CESSON", 5, 1.3), ("RENNES", 6, 1.5), ("NANTES", 5, 1.2), ("LAVAL", 3, 0.8), ("VANNES", 4, 1.0),
    ("BREST", 4, 0.9), ("LORIENT", 3, 0.7), ("SAINT-MALO", 3, 1.1), ("QUIMPER", 2, 0.6),
]  # fmt: skip
# More towns, for a layout of any size (the benchmark's 200 charge points).
MORE_TOWNS = [
    "ANGERS", "LE MANS", "TOURS", "CAEN", "ROUEN", "LILLE", "AMIENS", "REIMS", "METZ", "NANCY", "DIJON",
    "LYON", "GRENOBLE", "VALENCE", "AVIGNON", "NIMES", "MONTPELLIER", "TOULOUSE", "BORDEAUX", "NIORT",
    "POITIERS", "LIMOGES", "CLERMONT-FERRAND", "ORLEANS", "CHARTRES", "BOURGES", "TROYES", "BESANCON",
    "MULHOUSE", "STRASBOURG", "ANNECY", "CHAMBERY", "PAU", "BAYONNE", "PERPIGNAN", "BEZIERS",
]  # fmt: skip

# Relative use by clock hour: commuters in the morning and the evening on weekdays, a flatter day at weekends.
WEEKDAY_HOURS = [0.3, 0.2, 0.15, 0.1, 0.1, 0.25, 0.7, 1.5, 2.5, 2.6, 1.8, 1.5, 1.6, 1.5, 1.4, 1.5, 1.9, 2.6, 2.9,
                 2.5, 1.6, 1.1, 0.8, 0.5]  # fmt: skip
WEEKEND_HOURS = [0.4, 0.3, 0.2, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.7, 1.9, 2.0, 1.9, 1.8, 1.8, 1.8, 1.7, 1.6,
                 1.4, 1.1, 0.8, 0.6, 0.5]  # fmt: skip
_WEEKDAY_CUMULATIVE = list(accumulate(WEEKDAY_HOURS))
_WEEKEND_CUMULATIVE = list(accumulate(WEEKEND_HOURS))
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 1.05, 1.1, 0.75, 0.6]  # Monday … Sunday
MONTH_FACTOR = [0.9, 0.9, 0.95, 1.0, 1.0, 1.05, 1.2, 1.25, 1.0, 1.0, 0.95, 1.05]  # summer holidays on the road


@dataclass(frozen=True)
class Model:
    name: str
    oui: str  # the first 3 bytes of its EVCC's MAC
    lookup: str  # how mac_lookup knows it: "6" (first 6 hex digits), "4" (first 4), "full" (each MAC), "" (not)
    battery_kwh: float
    max_kw: float
    high_voltage: bool
    share: float


MODELS = [
    Model("Tesla Model 3", "4C:FC:AA", "6", 60, 170, False, 12),
    Model("Tesla Model Y", "4C:FC:AB", "6", 75, 200, False, 11),
    Model("Renault Megane E-Tech", "00:7D:FA", "6", 60, 130, False, 9),
    Model("Volkswagen ID.3", "3C:CE:15", "6", 58, 120, False, 7),
    Model("Volkswagen ID.4", "3C:CE:16", "6", 77, 135, False, 6),
    Model("Skoda Enyaq", "3C:CE:17", "6", 77, 135, False, 4),
    Model("Hyundai Ioniq 5", "68:27:19", "6", 73, 230, True, 5),
    Model("Kia EV6", "68:27:1A", "6", 77, 240, True, 4),
    Model("Porsche Taycan", "70:B3:D5", "6", 84, 270, True, 2),
    Model("BMW i4", "00:1A:37", "6", 81, 205, False, 3),
    Model("Mercedes EQA", "00:26:E8", "6", 66, 100, False, 3),
    Model("MG4", "D0:C5:D3", "6", 61, 135, False, 5),
    Model("Peugeot e-208", "C0:FB:3A", "4", 50, 100, False, 7),
    Model("Peugeot e-2008", "C0:FB:3B", "4", 50, 100, False, 4),
    Model("Fiat 500e", "C0:FB:7C", "4", 42, 85, False, 3),
    Model("Renault Kangoo E-Tech (flotte)", "02:4E:42", "full", 45, 80, False, 3),
    Model("", "D8:3A:DD", "", 64, 100, False, 3),  # a prefix nobody has named yet
    Model("", "F4:5E:AB", "", 60, 120, False, 2),
    Model("", "A0:B7:65", "", 70, 150, False, 2),
    Model("", "00:04:A3", "", 52, 90, False, 1.5),
    Model("", "B8:27:EB", "", 55, 100, False, 1),
]
# What the 4-digit prefixes name: a maker's range, not one model.
FOUR_DIGIT_NAMES = {"C0:FB": "Stellantis (e-208, e-2008, 500e)"}

# Failure signatures: (EVI Error Code, Downstream Code PC, EVI Status during error, weight).
# DS 8192 or (DS 0 and EVI ≠ 0) → Erreur_EVI; DS ∉ {0, 8192} → Erreur_DownStream; outcome 1 with both 0 → Unknown.
FAILURES = [
    (23, 8192, 7, 9), (12, 8192, 8, 8), (40, 8192, 1, 5), (5, 8192, 2, 4), (101, 8192, 9, 3), (31, 8192, 4, 3),
    (27, 0, 4, 4), (3, 0, 8, 4), (60, 0, 0, 3), (18, 0, 6, 2), (44, 0, -1, 2), (9, 0, 3, 1),
    (0, 4, 5, 5), (0, 16, 7, 6), (0, 64, 8, 7), (12, 256, 8, 4), (0, 1024, 0, 4), (0, 2048, 6, 3), (0, 4096, 3, 2),
    (0, 32, -1, 2), (0, 2, 2, 3), (7, 512, 1, 2), (0, 16384, 9, 1),
    (0, 0, None, 5), (0, 0, 0, 3),  # the source says "error" and gives no code: Erreur_Unknow_S
]  # fmt: skip
_FAILURE_CUMULATIVE = list(accumulate(f[3] for f in FAILURES))
_BURST_FAILURES = [f for f in FAILURES if f[0] or f[1]]  # a recurring error has a code

# Equipment faults: (label, equipment kind, bit_position, field_name, typical hours, share of long ones).
FAULTS = [
    ("Défaut isolement", "pdc", 3, "status_word_pdc", 6, 0.25),
    ("Arrêt d'urgence", "pdc", 0, "status_word_pdc", 0.5, 0.02),
    ("Défaut communication EVI", "pdc", 7, "status_word_pdc", 2, 0.05),
    ("Défaut câble / pistolet", "pdc", 5, "status_word_pdc", 24, 0.3),
    ("Surchauffe variateur", "variateur", 2, "alarm_word_hc", 3, 0.05),
    ("Défaut variateur", "variateur", 9, "alarm_word_hc", 12, 0.3),
    ("Défaut ventilation", "variateur", 11, "alarm_word_hc", 8, 0.15),
    ("Défaut disjoncteur", "armoire", 1, "alarm_word_ac", 4, 0.1),
    ("Porte armoire ouverte", "armoire", 4, "alarm_word_ac", 0.3, 0.0),
    ("Perte réseau", "armoire", 0, "alarm_word_ac", 1, 0.0),
]
FAULTS_PER_SITE_DAY = 1 / 6
LONGEST_FAULT_DAYS = 40  # a drive waiting for its spare part


@dataclass(frozen=True)
class Point:
    index: int  # unique across the layout: part of the session IDs (< 1000)
    site: str
    site_index: int
    name: str
    weight: float  # how busy, relative to an average PDC
    failure_rate: float  # share of its sessions that fail, bursts and retries aside
    bursty: bool  # now and then fails the same way again and again
    power_kw: float
    neighbours: tuple[str, ...]


@dataclass(frozen=True)
class Car:
    mac: str
    model: Model


@dataclass
class Layout:
    points: list[Point]
    sites: list[tuple[str, int]]  # (site, charge points)
    cars: list[Car]
    regulars: dict[int, list[int]]  # site index → indices of its regular cars
    seed: int


def layout(charge_points: int | None = None, *, seed: int = SEED) -> Layout:
    """The sites, charge points and vehicles: the demo's 9 sites and 35 PDCs, or `charge_points` of
    them over as many towns as needed (4 to 12 per site)."""
    rng = random.Random(f"layout-{seed}")
    if charge_points is None:
        sites = [(name, count, busy) for name, count, busy in DEMO_SITES]
    else:
        sites, towns, left = [], [name for name, _c, _b in DEMO_SITES] + MORE_TOWNS, charge_points
        while left > 0:
            if len(sites) >= len(towns):
                towns.append(f"SITE {len(towns) + 1}")
            count = min(left, rng.randint(4, 12))
            sites.append((towns[len(sites)], count, round(rng.uniform(0.6, 1.5), 2)))
            left -= count
    points, index = [], 0
    for site_index, (site, count, busy) in enumerate(sites):
        names = [f"PDC{n + 1}" for n in range(count)]
        for rank, name in enumerate(names):
            points.append(Point(
                index=index, site=site, site_index=site_index, name=name,
                weight=busy * max(0.5, 1.25 - 0.1 * rank) * rng.uniform(0.85, 1.15),
                failure_rate=rng.choice([0.015, 0.025, 0.03, 0.035, 0.04, 0.05, 0.07]),
                bursty=rng.random() < 0.18, power_kw=rng.choice([150, 150, 180, 300, 300]),
                neighbours=tuple(n for n in names if n != name) if count > 1 else (name,),
            ))  # fmt: skip
            index += 1
    if index >= 1000:
        raise ValueError("at most 999 charge points (the session IDs have 3 digits for them)")
    cars = []
    shares = list(accumulate(m.share for m in MODELS))
    for _car in range(max(600, 40 * len(points))):
        model = MODELS[bisect(shares, rng.random() * shares[-1])]
        tail = ":".join(f"{rng.randrange(256):02X}" for _ in range(3))
        cars.append(Car(mac=f"{model.oui}:{tail}", model=model))
    regulars = {s: rng.sample(range(len(cars)), min(len(cars), 25 * count)) for s, (_n, count, _b) in enumerate(sites)}
    return Layout(points=points, sites=[(name, count) for name, count, _b in sites], cars=cars, regulars=regulars,
                  seed=seed)  # fmt: skip


def mac_lookup(world: Layout) -> list[dict]:
    """`mac_lookup` rows: a 6-digit prefix per known model, a 4-digit one for a maker's range, each
    MAC of the fleet vans; the unnamed prefixes are not there (their vehicle stays unknown)."""
    rows, seen = [], set()
    for model in MODELS:
        if model.lookup == "6" and model.oui not in seen:
            seen.add(model.oui)
            # Some rows are written without separators, as the customer's table has them.
            rows.append({"MAC": model.oui if len(seen) % 3 else model.oui.replace(":", ""), "Vehicle": model.name})
    for prefix, name in FOUR_DIGIT_NAMES.items():
        rows.append({"MAC": prefix, "Vehicle": name})
    for car in world.cars:
        if car.model.lookup == "full" and car.mac not in seen:
            seen.add(car.mac)
            rows.append({"MAC": car.mac, "Vehicle": car.model.name})
    return rows


# --- sessions --------------------------------------------------------------------------------------


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def day_factor(day: date) -> float:
    """How busy a day is: weekday, season, and the growth of electric cars (a fixed function of the
    date, so that a day's sessions do not depend on when they are generated)."""
    growth = min(1.2, max(0.6, 0.75 + 0.35 * (day.toordinal() - date(2025, 1, 1).toordinal()) / 730))
    return WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1] * growth


def _fmt(moment: datetime) -> str:
    return moment.isoformat(" ", "seconds")


class _Day:
    """The sessions of one charge point on one day, from that pair's own random generator."""

    def __init__(self, world: Layout, point: Point, day: date, count: int | None, rate: float):
        self.world, self.point, self.day = world, point, day
        self.rng = random.Random((world.seed * 1_000_003 + point.index) * 1_000_033 + day.toordinal())
        self.count = count if count is not None else _poisson(self.rng, rate * point.weight * day_factor(day))
        self.rows: list[dict] = []
        self.midnight = datetime.combine(day, datetime.min.time())

    def next_id(self) -> str:
        return str(self.day.toordinal() * 100_000 + self.point.index * 100 + len(self.rows))

    def car(self) -> Car | None:
        rng = self.rng
        if rng.random() < 0.02:
            return None  # no MAC read (the EVCC never answered)
        cars = self.world.cars
        if rng.random() < 0.7:
            regulars = self.world.regulars[self.point.site_index]
            return cars[regulars[int(len(regulars) * rng.random() ** 2)]]
        return cars[rng.randrange(len(cars))]

    def start(self) -> datetime:
        cumulative = _WEEKEND_CUMULATIVE if self.day.weekday() >= 5 else _WEEKDAY_CUMULATIVE
        hour = bisect(cumulative, self.rng.random() * cumulative[-1])
        return self.midnight + timedelta(seconds=hour * 3600 + self.rng.randrange(3600))

    def failure(self, signature=None):
        if signature is None:
            signature = FAILURES[bisect(_FAILURE_CUMULATIVE, self.rng.random() * _FAILURE_CUMULATIVE[-1])]
        return signature

    def add(self, start: datetime, car: Car | None, failure=None, pdc: str | None = None, *, tiny=False) -> dict:
        """One session row; `failure` a FAILURES signature, None for an OK session."""
        rng, point = self.rng, self.point
        model = car.model if car else MODELS[0]
        soc_start = round(5 + 55 * rng.random() ** 1.3)
        soc_target = 80 if rng.random() < 0.55 else rng.randint(85, 100)
        full = max(1.0, (soc_target - soc_start) / 100 * model.battery_kwh * rng.uniform(1.02, 1.1))
        mean_kw = min(model.max_kw, point.power_kw) * rng.uniform(0.45, 0.75)
        outcome, evi, ds, step = 0, 0, 0, None
        if failure is not None:
            evi, ds, step, _weight = failure
            outcome = 1
            moment = derivations.moment(error_type=derivations.error_type(outcome=1, downstream_code=ds, evi_code=evi),
                                        step=step)  # fmt: skip
            if moment in ("Init", "Lock Connector", "CableCheck"):
                fraction = 0.0
            elif moment == "Charge":
                fraction = rng.uniform(0.05, 0.8)
            elif moment == "Fin de charge":
                fraction = rng.uniform(0.85, 1.0)
            else:
                fraction = rng.choice([0.0, rng.random()])
        else:
            fraction = 1.0
        if tiny:  # reported OK, but next to no energy: the driver unplugged at once
            energy, seconds = rng.uniform(0.0, 0.95), rng.randint(20, 240)
        elif fraction == 0.0:
            energy, seconds = 0.0, rng.randint(15, 150)
        else:
            energy = full * fraction
            seconds = int(energy / mean_kw * 3600) + rng.randint(40, 200)
        soc_end = soc_start if energy < 1 else min(100, round(soc_start + (soc_target - soc_start) * fraction))
        charged = energy > 0
        outcome_value = None if failure is None and rng.random() < 0.002 else outcome  # NULL counts as OK
        error_type = derivations.error_type(outcome=outcome_value, downstream_code=ds, evi_code=evi)
        moment = derivations.moment(error_type=error_type, step=step)
        row = {
            "ID": self.next_id(), "Site": point.site, "Name Project": PROJECT, "PDC": pdc or point.name,
            "Datetime start": _fmt(start), "Datetime end": _fmt(start + timedelta(seconds=seconds)),
            "State of charge(0:good, 1:error)": outcome_value, "is_ok": int(derivations.is_ok(outcome_value)),
            "type_erreur": error_type, "moment": moment, "moment_avancee": derivations.moment_group(moment),
            "Energy (Kwh)": round(energy, 2), "Mean Power (Kw)": round(mean_kw, 1) if charged else 0.0,
            "Max Power (Kw)": round(min(point.power_kw, mean_kw * rng.uniform(1.25, 1.7)), 1) if charged else 0.0,
            "SOC Start": float(soc_start), "SOC End": float(soc_end), "EVI Error Code": evi,
            "Downstream Code PC": ds, "EVI Status during error": step, "MAC Address": car.mac if car else None,
            "charge_900V": int(model.high_voltage and charged and car is not None), "Vehicle": None,
            "warning": rng.choice(["12", "12,47", "3"]) if rng.random() < 0.04 else None, "duration": seconds,
        }  # fmt: skip
        self.rows.append(row)
        return row

    def attempt(self, start: datetime, car: Car | None, failure=None) -> None:
        """A session, and the driver's new attempts within minutes when it failed (or a top-up)."""
        row = self.add(start, car, failure, tiny=failure is None and self.rng.random() < 0.015)
        tries = 0
        while car is not None and tries < 3:
            rng = self.rng
            failed = row["State of charge(0:good, 1:error)"] == 1
            if not (failed and rng.random() < 0.55) and not (not failed and rng.random() < 0.01):
                break
            tries += 1
            end = datetime.fromisoformat(row["Datetime end"])
            again = end + timedelta(seconds=rng.randint(45, 420))
            pdc = self.point.name if rng.random() < 0.55 else rng.choice(self.point.neighbours)
            retry_fails = failed and rng.random() < 0.25
            row = self.add(again, car, row_failure(row) if retry_fails else None, pdc)

    def sessions(self) -> list[dict]:
        rng, point = self.rng, self.point
        for start in sorted(self.start() for _ in range(self.count)):
            self.attempt(start, self.car(), self.failure() if rng.random() < point.failure_rate else None)
        if point.bursty and rng.random() < 0.04:
            # A recurring error: the same failure 3 to 5 times within a few hours, by different drivers.
            signature = rng.choice(_BURST_FAILURES)
            moment = self.midnight + timedelta(hours=rng.uniform(6, 16))
            for _ in range(rng.randint(3, 5)):
                self.attempt(moment, self.car(), signature)
                moment += timedelta(minutes=rng.randint(15, 150))
        return self.rows


def row_failure(row: dict):
    return (row["EVI Error Code"], row["Downstream Code PC"], row["EVI Status during error"], 0)


def day_sessions(world: Layout, point: Point, day: date, *, rate: float = SESSIONS_PER_POINT_DAY) -> list[dict]:
    return _Day(world, point, day, None, rate).sessions()


def sessions_between(world: Layout, first: date, last: date, *, rate: float = SESSIONS_PER_POINT_DAY) -> Iterator[dict]:
    """Every session of the charge points' days from `first` to `last` (dates of the generating
    day: a session started at 23:50 ends the next day)."""
    day = first
    while day <= last:
        for point in world.points:
            yield from _Day(world, point, day, None, rate).sessions()
        day += timedelta(days=1)


def generate_sessions(n: int, charge_points: int = 200, years: float = 2, seed: int = SEED, *,
                      end: date | None = None) -> Iterator[dict]:  # fmt: skip
    """Exactly `n` sessions over about `years` years up to `end` (default today), for `charge_points`
    charge points: days are generated from the newest back until there are `n` (so the first day
    may be partial, and the period a few days longer or shorter than asked)."""
    world = layout(charge_points, seed=seed)
    end = end or date.today()
    days = max(1, round(365.25 * years))
    total_factor = sum(day_factor(end - timedelta(days=k)) for k in range(days))
    # Retries and bursts add about 3 % to the sessions drawn.
    rate = n / (total_factor * sum(p.weight for p in world.points) * 1.03)
    produced, day = 0, end
    while produced < n:
        for point in world.points:
            for row in _Day(world, point, day, None, rate).sessions():
                yield row
                produced += 1
                if produced >= n:
                    return
        day -= timedelta(days=1)


# --- faults ----------------------------------------------------------------------------------------


def _site_faults(world: Layout, site_index: int, day: date, per_day: float) -> list[dict]:
    site, count = world.sites[site_index]
    rng = random.Random(f"faults-{world.seed}-{site_index}-{day.toordinal()}")
    rows = []
    for k in range(min(9, _poisson(rng, per_day))):
        label, kind, bit, field, hours, long_share = FAULTS[rng.randrange(len(FAULTS))]
        if kind == "pdc":
            equipment = f"PDC{rng.randint(1, count)}"
        elif kind == "variateur":
            equipment = f"Variateur HC{rng.randint(1, max(1, (count + 2) // 3))}"
        else:
            equipment = "Armoire AC"
        start = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
        duration = (timedelta(days=rng.uniform(3, LONGEST_FAULT_DAYS)) if rng.random() < long_share
                    else timedelta(hours=hours * rng.lognormvariate(0, 0.8)))  # fmt: skip
        rows.append({
            "id": (day.toordinal() - 730_000) * 10_000 + site_index * 10 + k, "site": site, "date_debut": start,
            "date_fin": start + duration, "defaut": label, "eqp": equipment, "bit_position": bit,
            "field_name": field,
        })  # fmt: skip
    return rows


def faults_between(world: Layout, first: date, last: date, now: datetime, *,
                   per_day: float = FAULTS_PER_SITE_DAY) -> list[dict]:  # fmt: skip
    """The faults that started from `first` to `last` and before `now` (local time); one that has
    not ended by `now` has no end date: it is still active."""
    rows = []
    day = first
    while day <= last:
        for site_index in range(len(world.sites)):
            for row in _site_faults(world, site_index, day, per_day):
                if row["date_debut"] > now:
                    continue
                row["date_fin"] = _fmt(row["date_fin"]) if row["date_fin"] <= now else None
                row["date_debut"] = _fmt(row["date_debut"])
                rows.append(row)
        day += timedelta(days=1)
    return rows


def generate_faults(n: int, charge_points: int = 200, years: float = 2, seed: int = SEED, *,
                    end: date | None = None) -> list[dict]:  # fmt: skip
    """About `n` faults (exactly n when there are more) over `years` years up to `end`."""
    world = layout(charge_points, seed=seed)
    end = end or date.today()
    days = max(1, round(365.25 * years))
    rows = faults_between(world, end - timedelta(days=days - 1), end, datetime.combine(end, datetime.max.time()),
                          per_day=n / (days * len(world.sites)) * 1.1)  # fmt: skip
    return rows[-n:]


# --- the demo data set -----------------------------------------------------------------------------


def local_now(now: datetime | None = None) -> datetime:
    """Now in the sources' local time, naive, to the second."""
    moment = now or datetime.now(tz=zoneinfo.ZoneInfo("UTC"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(zoneinfo.ZoneInfo(ZONE)).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def ended(rows, now: datetime, since: datetime | None = None) -> list[dict]:
    """The sessions that have ended by `now` (a KPI row is written when its session ends), and
    that started at `since` or later."""
    limit, floor = _fmt(now), _fmt(since) if since else ""
    return [row for row in rows if row["Datetime end"] <= limit and row["Datetime start"] >= floor]


def dataset(now: datetime | None = None, *, days: int = HISTORY_DAYS, seed: int = SEED,
            rate: float = SESSIONS_PER_POINT_DAY) -> tuple[list[dict], list[dict], list[dict]]:  # fmt: skip
    """(sessions, faults, mac_lookup) of the demo's last `days` days up to `now` (local)."""
    now = local_now(now)
    world = layout(seed=seed)
    first = now.date() - timedelta(days=days - 1)
    sessions = ended(sessions_between(world, first, now.date(), rate=rate), now)
    return sessions, faults_between(world, first, now.date(), now), mac_lookup(world)


def csv_bytes(rows: list[dict], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if row.get(column) is None else row[column] for column in header] for row in rows)
    return out.getvalue().encode("utf-8")


def files(*, sessions=None, faults=None, vehicles=None) -> dict[str, tuple[str, bytes]]:
    """The exports of an import, as `charging_import_now(files=…)` takes them."""
    out = {}
    for table, rows, header in (("vehicles", vehicles, VEHICLE_HEADER), ("faults", faults, FAULT_HEADER),
                                ("sessions", sessions, SESSION_HEADER)):  # fmt: skip
        if rows:
            out[table] = (f"{table}.csv", csv_bytes(rows, header))
    return out


# --- MySQL -----------------------------------------------------------------------------------------


def mysql_params(url: str) -> dict:
    """mysql://user:password@host:port/database → the fields of a ChargingSource."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or "voltwatch_demo_charging",
    }


def mysql_connect(params: dict, *, database: bool = True):
    import MySQLdb

    return MySQLdb.connect(host=params["host"], port=int(params["port"]), user=params["user"],
                           password=params["password"], charset="utf8mb4", connect_timeout=5,
                           **({"database": params["database"]} if database else {}))  # fmt: skip


def mysql_prepare(params: dict) -> None:
    """The database and the customer's three tables, created when missing."""
    connection = mysql_connect(params, database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{params['database']}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{params['database']}`")
            mysql_schema.create_tables(cursor)
        connection.commit()
    finally:
        connection.close()


def mysql_write(connection, *, sessions=(), faults=(), vehicles=()) -> None:
    """Add the sessions and vehicles that are not there yet; faults are replaced (one ends later)."""
    with connection.cursor() as cursor:
        for verb, table, rows, header in (("INSERT IGNORE", "mac_lookup", vehicles, VEHICLE_HEADER),
                                          ("REPLACE", "kpi_defauts_log", faults, FAULT_HEADER),
                                          ("INSERT IGNORE", "kpi_sessions", sessions, SESSION_HEADER)):  # fmt: skip
            listed = ", ".join(f"`{c}`" for c in header)
            marks = ", ".join(["%s"] * len(header))
            values = [[row.get(c) for c in header] for row in rows]
            for start in range(0, len(values), 5000):  # mysqlclient sends each chunk as one multi-row INSERT
                cursor.executemany(f"{verb} INTO `{table}` ({listed}) VALUES ({marks})", values[start : start + 5000])
    connection.commit()


# --- loading into the current tenant ---------------------------------------------------------------


def demo_source():
    """The tenant's demo source (None: this tenant has no demo charging data)."""
    from charging.models import ChargingSource

    return ChargingSource.objects.filter(name__in=[FILES_SOURCE, MYSQL_SOURCE]).first()


def _source(mysql: dict | None):
    from charging.models import ChargingSource, SourceKind

    if mysql:
        source, _created = ChargingSource.objects.get_or_create(
            name=MYSQL_SOURCE, defaults={"kind": SourceKind.MYSQL, "time_zone": ZONE, **mysql}
        )
    else:
        # A files source has nothing to fetch on the hourly schedule: the demo uploads its exports.
        source, _created = ChargingSource.objects.get_or_create(
            name=FILES_SOURCE, defaults={"kind": SourceKind.FILES, "time_zone": ZONE, "enabled": False}
        )
    return source


def load(now: datetime | None = None, *, days: int = HISTORY_DAYS, seed: int = SEED,
         rate: float = SESSIONS_PER_POINT_DAY, mysql_url: str | None = None):  # fmt: skip
    """Load the demo's charging data into the current tenant, or bring it up to `now`: the first call
    imports the whole history, the next ones only what ended since (`simulate_now`). Returns the
    ImportRun, or None when there was nothing new."""
    from charging.models import ChargingSession, Fault, ImportTrigger
    from charging.services import charging_import_now

    mysql_url = mysql_url if mysql_url is not None else os.environ.get(MYSQL_URL_ENV, "")
    mysql = mysql_params(mysql_url) if mysql_url else None
    source = demo_source() or _source(mysql)
    now = local_now(now)
    world = layout(seed=seed)
    newest = ChargingSession.objects.filter(source=source).order_by("-started_at").values_list("started_at").first()
    if newest is None:
        first = now.date() - timedelta(days=days - 1)
        since = None
        vehicles = mac_lookup(world)
    else:
        # Sessions end after they start: re-read from a few hours before the newest start.
        since = newest[0].astimezone(zoneinfo.ZoneInfo(ZONE)).replace(tzinfo=None) - timedelta(hours=3)
        first = since.date() - timedelta(days=1)
        vehicles = None
    sessions = ended(sessions_between(world, first, now.date(), rate=rate), now, since)
    # Faults may last weeks: the recent ones are generated again, so that one that ended is seen to end.
    fault_first = (
        first
        if since is None
        else max(first - timedelta(days=LONGEST_FAULT_DAYS + 1), now.date() - timedelta(days=days))
    )
    faults = faults_between(world, fault_first, now.date(), now)
    if since is not None:
        known = set(ChargingSession.objects.filter(source=source, external_id__in=[r["ID"] for r in sessions])
                    .values_list("external_id", flat=True))  # fmt: skip
        sessions = [row for row in sessions if row["ID"] not in known]
        stored = dict(Fault.objects.filter(source=source).values_list("external_id", "ended_at"))
        faults = [row for row in faults if str(row["id"]) not in stored
                  or (row["date_fin"] is not None and stored[str(row["id"])] is None)]  # fmt: skip
        if not sessions and not faults:
            return None
    if source.kind == "mysql":
        import MySQLdb

        params = {f: getattr(source, f) for f in ("host", "port", "user", "password", "database")}
        try:
            mysql_prepare(params)
            connection = mysql_connect(params)
            try:
                mysql_write(connection, sessions=sessions, faults=faults, vehicles=vehicles or ())
            finally:
                connection.close()
        except MySQLdb.Error as error:
            # The import below fails the way a real source that is down does (its state, one alert).
            logger.warning("demo charging: cannot write into %s:%s/%s: %s", params["host"], params["port"],
                           params["database"], error)  # fmt: skip
        return charging_import_now(source=source, trigger=ImportTrigger.DEMO)
    return charging_import_now(source=source, trigger=ImportTrigger.DEMO,
                               files=files(sessions=sessions, faults=faults, vehicles=vehicles))  # fmt: skip


def simulate_now() -> int:
    """The live demo (a beat task): import the sessions that ended since the last import, and the
    faults that started or ended. Does nothing in a tenant without demo charging data."""
    if demo_source() is None:
        return 0
    run = load()
    return run.rows_created if run else 0
