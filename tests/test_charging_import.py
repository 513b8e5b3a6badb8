"""Importing the customer's charging tables: derived fields computed by us, idempotent on ID, bad
rows reported and skipped, CSV and XLSX read the same."""

from datetime import UTC, datetime

from charging.models import ChargePoint, ChargingSession, Fault, ImportStatus
from tests.charging_data import charging_load, fault, session, vehicle


def stored(external_id):
    return ChargingSession.objects.select_related("site", "charge_point").get(external_id=external_id)


def test_a_session_is_stored_with_the_fields_we_derive(tenant):
    run = charging_load(sessions=[session("S1", start="2026-03-02 10:00:00", minutes=45, outcome=1, ds=8192, step=8)])
    assert run.status == ImportStatus.SUCCEEDED
    row = stored("S1")
    assert (row.site.name, row.charge_point.name) == ("CESSON", "PDC1")
    assert row.started_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Europe/Paris, winter
    assert (row.local_date.isoformat(), row.local_hour, row.duration_s) == ("2026-03-02", 10, 2700)
    assert (row.is_ok, row.error_type, row.moment, row.moment_group) == (False, "Erreur_EVI", "Charge", "Charge")


def test_the_sources_own_derived_columns_are_ignored(tenant):
    charging_load(sessions=[session("S1", outcome=0, **{"type_erreur": "Erreur_EVI", "moment": "Init", "is_ok": 0})])
    row = stored("S1")
    assert (row.is_ok, row.error_type, row.moment) == (True, "Erreur_Unknow_S", "Unknown")


def test_a_second_import_of_the_same_rows_changes_nothing(tenant):
    rows = [session("S1"), session("S2", pdc="PDC2")]
    first = charging_load(sessions=rows)
    second = charging_load(sessions=rows)
    assert (first.rows_created, first.rows_updated) == (2, 0)
    assert (second.rows_read, second.rows_created, second.rows_updated) == (2, 0, 0)
    assert ChargingSession.objects.count() == 2
    assert ChargePoint.objects.count() == 2


def test_a_changed_row_updates_ours(tenant):
    charging_load(sessions=[session("S1", outcome=0, energy=20)])
    run = charging_load(sessions=[session("S1", outcome=1, ds=1234, step=2, energy=0.5)])
    assert (run.rows_created, run.rows_updated) == (0, 1)
    row = stored("S1")
    assert (row.is_ok, row.error_type, row.moment, row.energy_kwh) == (False, "Erreur_DownStream", "Init", 0.5)


def test_bad_rows_are_reported_with_their_id_and_reason_and_the_good_ones_stored(tenant):
    run = charging_load(sessions=[
        session("GOOD"),
        session("BADDATE", start="le 2 mars"),
        session("BADOUTCOME", outcome=7),
        session("NEGATIVE", energy=-3),
        session("", site="CESSON"),
    ])  # fmt: skip
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_read, run.rows_created, run.rows_rejected) == (5, 1, 4)
    reasons = {reject["id"]: reject["reason"] for reject in run.rejects}
    assert reasons == {
        "BADDATE": "Datetime start: “le 2 mars” is not a date and time",
        "BADOUTCOME": "State of charge: 7 is neither 0 (good) nor 1 (error)",
        "NEGATIVE": "Energy (Kwh): -3.0 is negative",
        "": "ID is empty",
    }
    assert list(ChargingSession.objects.values_list("external_id", flat=True)) == ["GOOD"]


def test_the_vehicle_is_found_by_exact_mac_then_six_then_four_hex_digits(tenant):
    charging_load(
        vehicles=[vehicle("AA:BB:CC:00:00:01", "Exact"), vehicle("AABBCC", "Six"), vehicle("AA:BB", "Four")],
        sessions=[session("EXACT", mac="aa:bb:cc:00:00:01"), session("SIX", mac="AA:BB:CC:99:99:99"),
                  session("FOUR", mac="AA:BB:DD:00:00:00"), session("NONE", mac="11:22:33:44:55:66")],
    )  # fmt: skip
    found = dict(ChargingSession.objects.values_list("external_id", "vehicle"))
    assert found == {"EXACT": "Exact", "SIX": "Six", "FOUR": "Four", "NONE": ""}


def test_a_negative_duration_counts_zero(tenant):
    charging_load(sessions=[session("S1", start="2026-03-02 10:00:00", end="2026-03-02 09:00:00")])
    assert stored("S1").duration_s == 0


def test_faults_without_an_end_are_active(tenant):
    run = charging_load(faults=[fault(1, end=None), fault(2, end="2026-03-02 08:00:00")])
    assert run.rows_created == 2
    assert dict(Fault.objects.values_list("external_id", "ended_at")) == {
        "1": None,
        "2": datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    }


def test_an_xlsx_export_is_read_like_a_csv_one(tenant):
    rows = [session("S1", outcome=1, ds=0, evi=5, step=-1), session("S2", site="RENNES", pdc="PDC3")]
    charging_load(sessions=rows, kind="xlsx")
    xlsx = list(ChargingSession.objects.order_by("external_id").values_list(
        "external_id", "site__name", "started_at", "error_type", "moment", "duration_s"))  # fmt: skip
    ChargingSession.objects.all().delete()
    charging_load(sessions=rows, kind="csv")
    csv = list(ChargingSession.objects.order_by("external_id").values_list(
        "external_id", "site__name", "started_at", "error_type", "moment", "duration_s"))  # fmt: skip
    assert xlsx == csv
    assert xlsx[0][3:5] == ("Erreur_EVI", "Fin de charge")
