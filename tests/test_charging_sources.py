"""A charging source as its company's admin configures it: the password stored encrypted, never
shown again, kept when the form leaves it empty; every change in the audit log, secrets masked."""

from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import AuditLog
from charging.models import ChargingSource

FORM = {
    "name": "KPI", "kind": "mysql", "host": "db.example.internal", "port": "3306", "database": "Charges",
    "user": "nidec", "password": "", "sessions_table": "kpi_sessions", "faults_table": "kpi_defauts_log",
    "vehicles_table": "mac_lookup", "link_template": "https://elto.nidec-asi-online.com/Charge/detail?id={id}",
    "time_zone": "Europe/Paris", "margin_hours": "48", "enabled": "on",
}  # fmt: skip


def source_in(world) -> ChargingSource:
    with schema_context(world.slug):
        source = ChargingSource.objects.get(name="KPI")
    connection.set_schema_to_public()
    return source


def test_a_source_added_in_the_admin_keeps_its_password_encrypted_and_out_of_the_page(alpha):
    admin = alpha.http("admin")
    assert admin.post("/admin/charging/chargingsource/add/", {**FORM, "password": "s3cret!"}).status_code == 302
    source = source_in(alpha)
    assert source.password == "s3cret!"
    with schema_context(alpha.slug), connection.cursor() as cursor:
        cursor.execute("SELECT password FROM charging_chargingsource WHERE id = %s", [source.pk])
        assert "s3cret!" not in cursor.fetchone()[0]
    connection.set_schema_to_public()
    page = admin.get(f"/admin/charging/chargingsource/{source.pk}/change/").content.decode()
    assert "s3cret!" not in page


def test_an_edit_that_leaves_the_password_empty_keeps_the_stored_one_and_is_audited(alpha):
    admin = alpha.http("admin")
    admin.post("/admin/charging/chargingsource/add/", {**FORM, "password": "s3cret!"})
    source = source_in(alpha)
    response = admin.post(f"/admin/charging/chargingsource/{source.pk}/change/", {**FORM, "host": "db2.internal"})
    assert response.status_code == 302
    assert (source_in(alpha).password, source_in(alpha).host) == ("s3cret!", "db2.internal")
    with schema_context(alpha.slug):
        created = AuditLog.objects.get(action="charging_source.created")
        changed = AuditLog.objects.get(action="charging_source.changed")
    connection.set_schema_to_public()
    assert created.details["fields"]["password"] == "•••"
    assert changed.details["changes"] == {"host": ["db.example.internal", "db2.internal"]}
