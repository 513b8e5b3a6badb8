"""The default battery and meter alert rules every tenant starts with (editable in the portal)."""

from alerts.defaults import DefaultRule, install_rules

SILENT_TYPE = "silent"

# source type, name, metric, operator, threshold, severity, alert type, message
DEFAULT_RULES = [DefaultRule(*rule) for rule in [
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
]]  # fmt: skip


def install(rule_model) -> int:
    return install_rules(rule_model, DEFAULT_RULES)
