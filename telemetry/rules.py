"""The default battery and meter alert rules every tenant starts with (editable in the portal)."""

SILENT_TYPE = "silent"

# source type, name, metric, operator, threshold, severity, alert type, message
DEFAULT_RULES = [
    ("battery", "Cell over-voltage", "cell_voltage_max", ">", 4.25, "critical", "cell_overvoltage",
     "Surtension cellule: {value} V (seuil {threshold} V)"),
    ("battery", "Cell under-voltage", "cell_voltage_min", "<", 2.5, "critical", "cell_undervoltage",
     "Sous-tension cellule: {value} V (seuil {threshold} V)"),
    ("battery", "Temperature high", "temperature", ">", 55, "warning", "temperature",
     "Température batterie élevée: {value} °C"),
    ("battery", "Temperature critical", "temperature", ">", 65, "critical", "temperature",
     "Température batterie critique: {value} °C"),
    ("battery", "State of charge low", "soc", "<", 10, "warning", "soc_low", "SOC faible: {value} %"),
    ("battery", "BMS error flags", "error_flags", "!=", 0, "critical", "bms_error",
     "Défaut BMS signalé (flags {value})"),
    ("meter", "Power above threshold", "power", ">", 3500, "warning", "power_high",
     "Puissance au-dessus du seuil: {value} W (seuil {threshold} W)"),
]  # fmt: skip


def install(rule_model) -> int:
    """Create the default rules that are missing (works with a migration's historical model too)."""
    created = 0
    for source_type, name, metric, operator, threshold, severity, alert_type, message in DEFAULT_RULES:
        _rule, was_created = rule_model.objects.get_or_create(
            source_type=source_type,
            metric=metric,
            alert_type=alert_type,
            severity=severity,
            scope="all",
            defaults={"name": name, "operator": operator, "threshold": threshold, "message": message},
        )
        created += was_created
    return created
