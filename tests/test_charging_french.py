"""The Charging section read by a French operator: the customer's own names for the tabs, the
periods and the moments, and the words of its French (a fault is résolu, an alert résolue)."""

import re

import pytest
from django_tenants.utils import schema_context

from tests.charging_data import charging_load, fault, session


@pytest.fixture
def data(alpha):
    with schema_context(alpha.slug):
        charging_load(
            sessions=[session("OK1", start="2026-03-02 10:00:00"),
                      session("EVI1", start="2026-03-04 12:00:00", outcome=1, ds=8192, step=8)],
            faults=[fault(1, start="2026-03-01 08:00:00", end="2026-03-02 08:00:00"),
                    fault(2, start="2026-03-03 08:00:00")],
        )  # fmt: skip
    return alpha


def french(data, path: str) -> str:
    return data.http("viewer", HTTP_ACCEPT_LANGUAGE="fr").get(path).content.decode()


def test_the_tabs_bear_the_customers_own_names(data):
    html = french(data, "/charging/?period=all")
    tabs = ["Vue d’ensemble", "Générale", "Comparaison par site", "Détails PDC", "Statistiques", "Projection pivot",
            "Tentatives multiples", "Transactions suspectes", "Erreur Moment", "Erreur spécifique", "Alertes",
            "Évolution", "Historique défauts"]  # fmt: skip
    assert all(f">{tab}<" in html for tab in tabs)


def test_the_periods_and_moments_read_as_the_operators_say_them(data):
    html = french(data, "/charging/?period=all")
    for label in ["Focus Jour", "Focus Mois", "J-1 (hier)", "Semaine -1 (7 derniers jours)", "Toute la période"]:
        assert f">{label}</option>" in html
    for moment in ["Init", "Lock Connector", "CableCheck", "Charge", "Fin de charge"]:
        assert re.search(rf">\s*{moment}\s*</label>", html), moment
    for shortcut in ["Avant charge", "Charge", "Fin de charge"]:
        assert f">{shortcut}</button>" in html


def test_a_fault_is_resolu_or_en_cours(data):
    html = french(data, "/charging/tab/faults/?period=month&d1=2026-03-01")
    assert '<div class="muted">Résolus</div><div class="stat">1</div>' in html
    assert re.search(r"<td[^>]*>Résolu</td>", html) and re.search(r"<td[^>]*>En cours</td>", html)


def test_a_card_level_says_its_colour_in_french(data):
    html = french(data, "/charging/tab/overview/?period=month&d1=2026-03-01")
    assert re.search(r'<div class="muted">Niveau des défauts actifs</div>.*?>orange<', html, re.S)


def test_a_filter_error_names_its_field_with_french_punctuation(data):
    html = french(data, "/charging/?period=range&d1=2026-03-10&d2=2026-03-01")
    assert "Date de fin : La date de fin est antérieure à la date de début." in html
