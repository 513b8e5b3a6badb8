"""What analyses 2, 3, 4, 5, 8 and 9 share: the module shape of `charging.analyses.general`, answers
that are plain JSON, and every chart backed by a table saying the same in text."""

import json

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from charging import selectors
from charging.analyses import analysis
from charging.filters import parse_filters
from tests.charging_data import charging_load, session, vehicle

NAMES = ["sites", "charge-points", "statistics", "pivot", "errors-by-moment", "specific-error"]
OWN = {
    "sites": {"site": "cesson", "month": "2026-03"},
    "pivot": {"site": "cesson", "site2": "rennes"},
    "specific-error": {"mac": "AA:BB", "codes": "12,1234", "drill_site": "cesson", "drill_month": "2026-03",
                       "drill_day": "2026-03-02"},
}  # fmt: skip
SESSIONS = [
    session("J1", start="2026-03-02 10:00:00"),
    session("J2", start="2026-03-02 11:00:00", outcome=1, ds=8192, evi=12, step=8),
    session("J3", pdc="PDC2", start="2026-03-03 12:00:00", outcome=1, ds=1234, step=3, soc_end=None),
    session("J4", site="RENNES", start="2026-03-04 13:00:00", outcome=1, ds=0, evi=5, step=-1, mac="11:22:33:44:55:66"),
    session("J5", site="RENNES", start="2026-03-05 14:00:00", outcome=None, energy=None, v900=None, mac=""),
]


def plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


@pytest.mark.parametrize("name", NAMES)
def test_analysis_has_the_shape_of_the_pattern(name):
    module = analysis(name)
    assert name == module.NAME
    assert str(module.TITLE) and all(str(note) for note in module.NOTES)
    assert isinstance(module.PARAMS, tuple)


@pytest.mark.parametrize("name", NAMES)
def test_analysis_answers_plain_json_with_every_chart_backed_by_a_table(alpha, name):
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS, vehicles=[vehicle("AA:BB:CC", "Model A")])
        module = analysis(name)
        filters = parse_filters(
            {"period": "month", "d1": "2026-03-01", **OWN.get(name, {})},
            bounds=selectors.data_bounds(),
            site_ids_by_code=selectors.site_ids_by_code(),
            extra=module.PARAMS,
        )
        result = module.run(filters).as_json()
    assert plain(result), result
    json.dumps(result)  # no encoder needed
    for chart in result["charts"]:
        assert chart["table"] in result["tables"], chart["key"]
    for table in result["tables"].values():
        assert all(set(table["columns"]) <= set(row) for row in table["rows"]), table["title"]


@pytest.mark.parametrize("name", NAMES)
def test_analysis_documents_each_of_its_headline_figures(alpha, name):
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
        module = analysis(name)
        filters = parse_filters(
            {"period": "month", "d1": "2026-03-01"},
            bounds=selectors.data_bounds(),
            site_ids_by_code=selectors.site_ids_by_code(),
            extra=module.PARAMS,
        )
        figures = module.run(filters).figures
    assert set(module.FIGURES) == set(figures)
    assert all(str(description) for description in module.FIGURES.values())


def test_an_analysis_parameter_it_cannot_read_is_a_400_naming_it(alpha):
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
    connection.set_schema_to_public()
    response = alpha.api().get("/api/v1/charging/analyses/specific-error", {"codes": "12,x", "month": "2026-03"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"codes": "Codes are whole numbers separated by commas."}
    response = alpha.api().get("/api/v1/charging/analyses/sites", {"month": "March"})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["month"])


ODD_VALUES = ["", " ", "x", "-1", "0", "2026-02-30", "9999-12", "AA:BB:CC:DD:EE:FF:00:11", "é€", "1" * 40, "12,,13,"]


@pytest.mark.parametrize("name", NAMES)
def test_an_analysis_answers_odd_parameters_with_a_200_or_a_400(alpha, name):
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
        params = analysis(name).PARAMS
    connection.set_schema_to_public()
    client = alpha.api()
    for value in ODD_VALUES:
        for param in params or ("unknown",):
            response = client.get(f"/api/v1/charging/analyses/{name}", {"period": "month", "d1": "2026-03-01",
                                                                       param: value})  # fmt: skip
            assert response.status_code in (200, 400), (param, value, response.status_code)


@pytest.mark.parametrize("name", ["sites", "charge-points", "pivot", "specific-error"])
def test_an_analysis_documents_each_of_its_parameters(name):
    module = analysis(name)
    assert set(module.PARAM_HELP) == set(module.PARAMS)


def test_an_analysis_speaks_french_to_a_french_reader(alpha):
    with schema_context(alpha.slug), translation.override("fr"):
        charging_load(sessions=SESSIONS)
        assert [str(analysis(name).TITLE) for name in NAMES] == [
            "Comparaison par site", "Détails PDC", "Statistiques", "Projection pivot", "Erreur Moment",
            "Erreur spécifique",
        ]  # fmt: skip
        module = analysis("charge-points")
        filters = parse_filters({"period": "month", "d1": "2026-03-01"}, bounds=selectors.data_bounds(),
                                site_ids_by_code=selectors.site_ids_by_code(), extra=module.PARAMS)  # fmt: skip
        result = module.run(filters).as_json()
    assert result["tables"]["failed_sessions"]["title"] == "Sessions en échec"
    assert "L’étape EVI 0, 3, -1 ou au-delà de 8 compte comme Fin de charge." in result["notes"]
