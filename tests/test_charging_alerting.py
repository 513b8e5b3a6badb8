"""What a charging import raises through the platform's alert engine: analysis 10's recurring errors
(one alert per charge point and error key) and active faults (raised once, resolved when they end)."""

from django_tenants.utils import schema_context

from alerts.selectors import source_alerts
from charging.alerting import raise_charging_alerts
from charging.models import ChargePoint
from sites.selectors import sites
from tests.charging_data import charging_load, fault, files_source, session


def failure(id, start, *, pdc="PDC1", site="CESSON", ds=8192, evi=0, step=8, **fields):
    return session(id, start=start, pdc=pdc, site=site, outcome=1, ds=ds, evi=evi, step=step, **fields)


def three(prefix, day="2026-03-02", **fields):
    return [failure(f"{prefix}{i}", f"{day} 10:0{i}:00", **fields) for i in range(1, 4)]


def recurring():
    return list(source_alerts(source_type="charge_point", include_resolved=True).order_by("source_label", "type"))


def fault_alerts():
    return list(source_alerts(source_type="charging_fault", include_resolved=True).order_by("source_id"))


def point(site, name):
    return ChargePoint.objects.get(site__name=site, name=name)


def test_recurring_errors_raise_one_alert_per_charge_point_and_error_key(tenant):
    lone = failure("D", "2026-03-02 10:05", step=2)  # alone at Init: no alert
    charging_load(sessions=[*three("A"), *three("B", pdc="PDC2"), *three("C", ds=1234), lone])
    alerts = recurring()
    assert [(a.source_label, a.type, a.value, a.status) for a in alerts] == [
        ("CESSON / PDC1", "charging_recurring:Erreur_DownStream:Charge:0:1234", "3", "firing"),
        ("CESSON / PDC1", "charging_recurring:Erreur_EVI:Charge:0:8192", "3", "firing"),
        ("CESSON / PDC2", "charging_recurring:Erreur_EVI:Charge:0:8192", "3", "firing"),
    ]
    first = alerts[1]
    cesson = sites().get(name="CESSON")
    assert (first.source_id, first.site_id, first.site_label) == (str(point("CESSON", "PDC1").pk), str(cesson.pk),
                                                                  "CESSON")  # fmt: skip
    assert first.message == (
        "CESSON / PDC1: 3 identical errors (Erreur_EVI, Charge, EVI 0, Downstream 8192) "
        "between 2026-03-02 10:01:00 and 2026-03-02 10:03:00."
    )
    assert first.labels["sessions"] == ["A1", "A2", "A3"]


def test_a_missing_code_is_part_of_the_key_and_left_empty_in_the_alert_type(tenant):
    charging_load(sessions=[*three("N", ds=1234, evi=None), *three("Z", ds=1234, evi=0, pdc="PDC2")])
    assert sorted((a.source_label, a.type) for a in recurring()) == [
        ("CESSON / PDC1", "charging_recurring:Erreur_DownStream:Charge::1234"),
        ("CESSON / PDC2", "charging_recurring:Erreur_DownStream:Charge:0:1234"),
    ]
    assert "EVI —, Downstream 1234" in recurring()[0].message


def test_a_reimport_raises_nothing_again(tenant):
    rows = three("A")
    charging_load(sessions=rows)
    charging_load(sessions=rows)
    assert raise_charging_alerts(source=files_source()) == 0
    assert [(a.type, a.occurrences, a.status) for a in recurring()] == [
        ("charging_recurring:Erreur_EVI:Charge:0:8192", 1, "firing")
    ]


def test_a_window_that_grows_updates_its_open_alert(tenant):
    charging_load(sessions=three("A"))
    charging_load(sessions=[failure("A4", "2026-03-02 18:00:00")])
    (alert,) = recurring()
    assert (alert.occurrences, alert.value, alert.labels["sessions"]) == (2, "4", ["A1", "A2", "A3", "A4"])
    assert "4 identical errors" in alert.message


def test_a_resolved_alert_is_not_raised_again_for_the_same_errors(tenant):
    from alerts.services import alert_resolve

    charging_load(sessions=three("A"))
    (alert,) = recurring()
    alert_resolve(alert=alert, by=None)
    charging_load(sessions=three("A"))
    assert [(a.status, a.occurrences) for a in recurring()] == [("resolved", 1)]


def test_only_the_last_7_days_of_the_source_data_are_alerted_on(tenant):
    charging_load(sessions=[
        *three("OLD", day="2026-03-02"),  # newest is 03-09: 03-03 … 03-09 is the window
        *three("NEW", day="2026-03-03", pdc="PDC2"),
        session("LATEST", start="2026-03-09 12:00:00"),
    ])  # fmt: skip
    assert [a.source_label for a in recurring()] == ["CESSON / PDC2"]


def test_what_the_moving_7_days_still_show_of_an_alerted_window_is_not_raised_again(tenant):
    charging_load(sessions=[
        failure("E1", "2026-03-02 23:00:00"), failure("E2", "2026-03-03 01:00:00"),
        failure("E3", "2026-03-03 02:00:00"), failure("E4", "2026-03-03 03:00:00"),
        session("LATEST", start="2026-03-08 12:00:00"),  # 7 days: 03-02 … 03-08
    ])  # fmt: skip
    assert [a.labels["sessions"] for a in recurring()] == [["E1", "E2", "E3", "E4"]]
    charging_load(sessions=[session("NEXT", start="2026-03-09 12:00:00")])  # 03-03 … 03-09: E2, E3, E4 alone
    assert [(a.occurrences, a.labels["sessions"]) for a in recurring()] == [(1, ["E1", "E2", "E3", "E4"])]


def test_raise_charging_alerts_returns_how_many_it_raised(tenant, monkeypatch):
    import charging.alerting

    monkeypatch.setattr(charging.alerting, "raise_charging_alerts", lambda **kwargs: 0)  # the import's own call
    charging_load(sessions=[*three("A"), *three("B", pdc="PDC2")],
                  faults=[fault(1), fault(2, end="2026-03-01 09:00:00")])  # fmt: skip
    assert raise_charging_alerts(source=files_source()) == 3  # two charge points, one active fault
    assert raise_charging_alerts(source=files_source()) == 0


def test_an_import_alerts_on_the_sites_of_its_own_source(tenant, monkeypatch):
    import charging.alerting

    monkeypatch.setattr(charging.alerting, "raise_charging_alerts", lambda **kwargs: 0)  # the import's own call
    charging_load(sessions=three("A"))
    other = files_source("Other exports")
    charging_load(sessions=[session("R", site="RENNES")], source=other)
    assert raise_charging_alerts(source=other) == 0
    assert raise_charging_alerts(source=files_source()) == 1


# --- Faults --------------------------------------------------------------------------------------


def test_an_active_fault_is_raised_once_and_resolved_when_it_ends(tenant):
    charging_load(faults=[fault(7, start="2026-03-01 08:00:00", eqp="PDC1", label="Défaut isolement"),
                          fault(8, start="2026-03-01 09:00:00", end="2026-03-01 10:00:00")])  # fmt: skip
    (alert,) = fault_alerts()
    assert (alert.type, alert.source_label, alert.site_label, alert.status) == (
        "charging_fault", "CESSON / PDC1: Défaut isolement", "CESSON", "firing"
    )  # fmt: skip
    assert alert.message == "Fault “Défaut isolement” on CESSON / PDC1 since 2026-03-01 08:00."

    charging_load(faults=[fault(7, start="2026-03-01 08:00:00")])
    assert [(a.occurrences, a.status) for a in fault_alerts()] == [(1, "firing")]

    charging_load(faults=[fault(7, start="2026-03-01 08:00:00", end="2026-03-04 12:00:00")])
    assert [a.status for a in fault_alerts()] == ["resolved"]
    charging_load(faults=[fault(7, start="2026-03-01 08:00:00", end="2026-03-04 12:00:00")])
    assert len(fault_alerts()) == 1


def test_a_fault_alert_resolved_by_hand_is_not_raised_again(tenant):
    from alerts.services import alert_resolve

    charging_load(faults=[fault(7)])
    alert_resolve(alert=fault_alerts()[0], by=None)
    assert raise_charging_alerts(source=files_source()) == 0
    assert [a.status for a in fault_alerts()] == ["resolved"]


# --- Tenants -------------------------------------------------------------------------------------


def test_another_tenants_alerts_stay_in_its_schema(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=three("B"), faults=[fault(1)])
        assert (len(recurring()), len(fault_alerts())) == (1, 1)
    with schema_context(alpha.slug):
        charging_load(sessions=[session("A")])
        assert (len(recurring()), len(fault_alerts())) == (0, 0)
