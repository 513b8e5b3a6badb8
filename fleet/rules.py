"""The customer's fleet thresholds, installed as each tenant's default (editable) alert rules."""

from alerts.defaults import DefaultRule, install_rules

SOURCE_TYPE = "device"  # how alerts name fleet devices as their source
OFFLINE_TYPE = "offline"

# name, metric, operator, threshold, severity, alert type, message
DEFAULT_RULES = [
    DefaultRule(SOURCE_TYPE, *rule)
    for rule in [
        ("Temperature high", "temperature", ">", 75, "critical", "temperature", "Température élevée: {value}°C"),
        ("Disk almost full", "disk_percent", ">", 90, "warning", "disk", "Disque plein à {value}%"),
        ("Memory almost full", "memory_percent", ">", 90, "warning", "memory", "Mémoire utilisée à {value}%"),
        (
            "Free disk space low",
            "disk_free_gb",
            "<",
            2,
            "warning",
            "disk_space",
            "Espace disque faible: {value} Go libres",
        ),
        ("Service stopped", "service_stopped", ">", 0, "critical", "service", "Service arrêté: {item}"),
        (
            "Application missing",
            "application_missing",
            ">",
            0,
            "critical",
            "application",
            "Application manquante: {item}",
        ),
        ("No heartbeat", "heartbeat_age_s", ">", 300, "critical", OFFLINE_TYPE, "Site hors ligne: pas de heartbeat"),
    ]
]


def install(rule_model) -> int:
    return install_rules(rule_model, DEFAULT_RULES)
