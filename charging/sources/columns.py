"""The customer's column names (CHARGING.md), and ours: the readers rename on the way in, so that
nothing past `charging.sources` knows the source's spelling."""

SESSION_FIELDS = {
    "ID": "external_id",
    "Site": "site",
    "Name Project": "project",
    "PDC": "charge_point",
    "Datetime start": "start",
    "Datetime end": "end",
    "State of charge(0:good, 1:error)": "outcome",
    "Energy (Kwh)": "energy_kwh",
    "Mean Power (Kw)": "mean_power_kw",
    "Max Power (Kw)": "max_power_kw",
    "SOC Start": "soc_start",
    "SOC End": "soc_end",
    "EVI Error Code": "evi_code",
    "Downstream Code PC": "downstream_code",
    "EVI Status during error": "evi_step",
    "MAC Address": "mac",
    "charge_900V": "charge_900v",
}
# Used when the table has them.
SESSION_OPTIONAL_FIELDS = {"Vehicle": "vehicle", "warning": "warning", "duration": "duration"}
# Read from the source, never used: the customer's own derivations (often empty); we compute ours.
SESSION_IGNORED = ("is_ok", "type_erreur", "moment", "moment_avancee")

FAULT_FIELDS = {
    "id": "external_id",
    "site": "site",
    "date_debut": "start",
    "date_fin": "end",
    "defaut": "label",
    "eqp": "equipment",
    "bit_position": "bit_position",
    "field_name": "field_name",
}
VEHICLE_FIELDS = {"MAC": "mac", "Vehicle": "vehicle"}

TABLES = {"sessions": SESSION_FIELDS, "faults": FAULT_FIELDS, "vehicles": VEHICLE_FIELDS}
REQUIRED = {"sessions": ("ID", "Site", "PDC", "Datetime start"), "faults": ("id", "site", "date_debut"),
            "vehicles": ("MAC", "Vehicle")}  # fmt: skip


def fields_of(table: str, present: list[str]) -> list[tuple[str, str]]:
    """(source column, our field) for the columns of `table` the source has, optional ones included."""
    known = dict(TABLES[table])
    if table == "sessions":
        known.update(SESSION_OPTIONAL_FIELDS)
    return [(column, known[column]) for column in present if column in known]


def missing_columns(table: str, present: list[str]) -> list[str]:
    return [column for column in REQUIRED[table] if column not in present]
