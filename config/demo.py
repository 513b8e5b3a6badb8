"""The demo world `make run` starts with: two client companies, users of every role, an API key."""

from dataclasses import dataclass

DEMO_PASSWORD = "voltwatch-demo"
STAFF_EMAIL = "staff@voltwatch.local"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    time_zone: str
    language: str
    api_key: str  # a fixed demo key so the README's curl example works; real keys are random
    charging: bool = False  # seeded with charging KPIs (charging/demo.py), kept live by a beat task


DEMO_TENANTS = [
    DemoTenant("nordbatt", "Nord Batteries", "Europe/Paris", "fr", "vw_demo-nordbatt-key-0000000000000000000000"),
    DemoTenant(
        "bornexpress",
        "Borne Express",
        "America/Montreal",
        "fr",
        "vw_demo-bornexpress-key-000000000000000000",
        charging=True,
    ),
]
ROLES = ["admin", "operator", "viewer"]


def demo_email(role: str, slug: str) -> str:
    return f"{role}@{slug}.demo"
