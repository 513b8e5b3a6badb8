"""CSV exports open in a spreadsheet as data: no cell a user typed runs as a formula there."""

import csv
import io

from tests.factories import make_battery


def _send(world, serial: str, values: dict) -> None:
    body = {"kind": "battery", "readings": [{"asset": serial, "time": "2026-11-24T10:00:00Z", "values": values}]}
    response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
    assert response.status_code == 201, response.content


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def test_text_cells_a_spreadsheet_would_run_as_formulas_are_exported_as_text(alpha):
    make_battery(alpha, name='=HYPERLINK("http://evil.example","Click")', serial="@SUM(1+1)")
    make_battery(alpha, name="+33 6 12 34 56 78", serial="-2+3+cmd|' /C calc'!A0")
    make_battery(alpha, name="\tTabbed", serial="\rReturned")

    rows = _csv(alpha.http("viewer").get("/battery/export/csv"))

    assert sorted((row["Name"], row["Serial"]) for row in rows) == [
        ("'\tTabbed", "'\rReturned"),
        ("'+33 6 12 34 56 78", "'-2+3+cmd|' /C calc'!A0"),
        ('\'=HYPERLINK("http://evil.example","Click")', "'@SUM(1+1)"),
    ]


def test_numbers_and_plain_text_are_exported_as_they_are(alpha):
    make_battery(alpha, name="Lyon pack", serial="-18.2")
    make_battery(alpha, name="Pack - spare", serial="+1e3")
    _send(alpha, "-18.2", {"current": -18.2, "voltage": 51.7})

    rows = _csv(alpha.http("viewer").get("/battery/export/csv"))

    assert sorted((row["Name"], row["Serial"]) for row in rows) == [("Lyon pack", "-18.2"), ("Pack - spare", "+1e3")]
    lyon = next(row for row in rows if row["Name"] == "Lyon pack")
    assert (lyon["Current (A)"], lyon["Pack voltage (V)"]) == ("-18.2", "51.7")
