"""The portal's navigation: one entry per section, in display order. Data only (URL names as strings), so
that every app's pages can name their section without importing the app that shows the portal."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    slug: str
    url_name: str
    label: str
    icon: str
    summary: str


SECTIONS = [
    Section("overview", "portal:overview", _("Overview"), "grid", _("Your company at a glance.")),
    Section(
        "batteries",
        "telemetry:batteries",
        _("Batteries"),
        "battery",
        _("Battery packs and their BMS readings: voltage, current, temperature, SOC, SOH, cells."),
    ),
    Section(
        "meters",
        "telemetry:meters",
        _("Meters"),
        "gauge",
        _("Shelly and other power meters: power, voltage, current and energy, live."),
    ),
    Section(
        "charging",
        "charging:index",
        _("Charging"),
        "plug",
        _("Charge points, sessions, defects and the 13 charging analyses."),
    ),
    Section(
        "fleet",
        "fleet:overview",
        _("Fleet"),
        "cpu",
        _("Field devices: metrics, heartbeats, services and offline detection."),
    ),
    Section(
        "alerts",
        "alerts:list",
        _("Alerts"),
        "bell",
        _("Alerts from every source, their lifecycle, silences and notification channels."),
    ),
    Section("chat", "portal:chat", _("Chat"), "message", _("Operator inbox, conversations and diagnostics history.")),
    Section(
        "settings", "accounts:settings", _("Settings"), "settings", _("Users, roles, API keys and your preferences.")
    ),
]

SECTION_BY_SLUG = {section.slug: section for section in SECTIONS}
