"""Sites (the sites app): the places a company's batteries, meters and field devices are at, as
people, devices and the company admin meet them, each person's edit in the audit log, each tenant's
sites its own; and the move of Site out of telemetry, which keeps the rows of a database of before."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django_tenants.utils import schema_context

from accounts.models import AuditLog
from fleet.models import Device
from sites import services
from sites.models import Site
from telemetry.models import Battery
from tenants.cloning import clone_template
from tests.factories import make_battery
from tests.test_fleet import metrics

GRENOBLE = {
    "name": "Grenoble",
    "code": "grenoble",
    "time_zone": "Europe/Paris",
    "address": "3 rue des Alpes",
    "latitude": 45.19,
    "longitude": 5.72,
}


def entries(world, action: str) -> list[AuditLog]:
    with schema_context(world.slug):
        found = list(AuditLog.objects.filter(action=action).order_by("pk"))
    connection.set_schema_to_public()
    return found


def api_post(world, path: str, body: dict):
    return world.api().post(path, body, content_type="application/json")


def test_a_site_made_through_the_api_takes_batteries_and_shows_in_the_portal(alpha):
    made = api_post(alpha, "/api/v1/telemetry/sites/", GRENOBLE)
    assert made.status_code == 201, made.content
    assert {name: made.json()[name] for name in GRENOBLE} == GRENOBLE

    rack = api_post(alpha, "/api/v1/telemetry/types/", {"name": "Rack", "kind": "battery"}).json()
    battery = {"site": "grenoble", "type": rack["id"], "name": "Pack G1", "serial": "GR-0001"}
    assert api_post(alpha, "/api/v1/telemetry/batteries/", battery).status_code == 201

    page = alpha.http("viewer").get("/sites/grenoble/")
    assert page.status_code == 200
    assert "Grenoble" in page.text and "Pack G1" in page.text
    [entry] = entries(alpha, "site.created")
    assert entry.actor is None and alpha.api_token.startswith(entry.details["api_key"])
    assert entry.details["fields"]["address"] == "3 rue des Alpes"


def test_a_site_renamed_through_the_api_records_what_changed(alpha):
    site_id = api_post(alpha, "/api/v1/telemetry/sites/", GRENOBLE).json()["id"]

    renamed = alpha.api().patch(
        f"/api/v1/telemetry/sites/{site_id}/", {"name": "Grenoble Nord"}, content_type="application/json"
    )

    assert renamed.status_code == 200 and renamed.json()["name"] == "Grenoble Nord"
    [entry] = entries(alpha, "site.changed")
    assert entry.details["changes"] == {"name": ["Grenoble", "Grenoble Nord"]}


def test_an_empty_site_deleted_through_the_api_is_in_the_audit_log(alpha):
    site_id = api_post(alpha, "/api/v1/telemetry/sites/", GRENOBLE).json()["id"]

    assert alpha.api().delete(f"/api/v1/telemetry/sites/{site_id}/").status_code == 204

    [entry] = entries(alpha, "site.deleted")
    assert (entry.target_type, entry.target_id, entry.target_label) == ("Site", str(site_id), "Grenoble")


def test_a_site_its_batteries_still_use_stays_and_is_not_logged_as_deleted(alpha):
    battery = make_battery(alpha)

    with schema_context(alpha.slug):
        with pytest.raises(ProtectedError):
            services.site_delete(site=battery.site, by=alpha.users["admin"])
        assert Site.objects.filter(pk=battery.site_id).exists()
    connection.set_schema_to_public()
    assert entries(alpha, "site.deleted") == []


def test_the_company_admin_edits_a_site_in_the_admin_and_it_is_audited(alpha):
    battery = make_battery(alpha)
    admin = alpha.http("admin")
    assert admin.get("/admin/sites/site/").status_code == 200

    form = {"name": "Lyon quai", "code": "lyon", "time_zone": "Europe/Paris", "address": "", "latitude": "",
            "longitude": "", "_save": "Save"}  # fmt: skip
    saved = admin.post(f"/admin/sites/site/{battery.site_id}/change/", form)

    assert saved.status_code == 302, saved.content
    [entry] = entries(alpha, "site.changed")
    assert entry.actor_label == "admin@alpha.test"
    assert entry.details["changes"] == {"name": ["Lyon dépôt", "Lyon quai"]}


def test_sites_the_company_admin_deletes_in_the_admin_are_audited(alpha):
    with schema_context(alpha.slug):
        one, two, three = (services.site_get_or_create(code=code, name=code.title())[0] for code in ("a", "b", "c"))
    connection.set_schema_to_public()
    admin = alpha.http("admin")

    assert admin.post(f"/admin/sites/site/{one.pk}/delete/", {"post": "yes"}).status_code == 302
    bulk = {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"}
    assert admin.post("/admin/sites/site/", bulk).status_code == 302

    deleted = entries(alpha, "site.deleted")
    assert sorted(entry.target_label for entry in deleted) == ["A", "B", "C"]
    assert {entry.actor_label for entry in deleted} == {"admin@alpha.test"}
    with schema_context(alpha.slug):
        assert not Site.objects.filter(code__in=["a", "b", "c"]).exists()


def test_a_tenant_sees_and_names_only_its_own_sites(alpha, beta):
    with schema_context(beta.slug):
        services.site_get_or_create(code="grenoble", name="Beta's Grenoble")
    connection.set_schema_to_public()
    rack = api_post(alpha, "/api/v1/telemetry/types/", {"name": "Rack", "kind": "battery"}).json()
    battery = {"site": "grenoble", "type": rack["id"], "name": "Pack G1", "serial": "GR-0001"}

    assert "grenoble" not in [site["code"] for site in alpha.api().get("/api/v1/telemetry/sites/").json()["results"]]
    assert alpha.http("viewer").get("/sites/grenoble/").status_code == 404
    assert api_post(alpha, "/api/v1/telemetry/batteries/", battery).status_code == 400  # no such site here
    assert api_post(alpha, "/api/v1/telemetry/sites/", GRENOBLE).status_code == 201  # the code is free here
    assert api_post(alpha, "/api/v1/telemetry/batteries/", battery).status_code == 201
    with schema_context(beta.slug):
        assert Site.objects.get(code="grenoble").name == "Beta's Grenoble"


def test_a_device_reporting_for_a_club_not_seen_yet_brings_its_site(alpha):
    response = alpha.api().post(
        "/api/v1/fleet/metrics", metrics(clubName="Saint-Malo"), content_type="application/json"
    )

    assert response.status_code == 201
    with schema_context(alpha.slug):
        device = Device.objects.select_related("site").get(external_id="cesson-b827eb123456")
        assert (device.site.code, device.site.name) == ("saint-malo", "Saint-Malo")
    connection.set_schema_to_public()
    assert "Saint-Malo" in alpha.http("viewer").get("/sites/").text
    assert entries(alpha, "site.created") == []  # made by a device, as the device is: not a person's edit


def test_sites_and_what_points_at_them_survive_the_move_out_of_telemetry(db):
    """A schema migrated at the code of before (Site in telemetry, table telemetry_site) keeps its
    sites, the batteries' and devices' links to them, and the site's content type (with the
    permissions and admin history on it) once migrated to sites."""
    assert clone_template(settings.TENANT_BASE_SCHEMA, "before_sites")  # dropped with the test's rollback
    connection.set_schema("before_sites", include_public=False)
    executor = MigrationExecutor(connection)
    executor.migrate([("sites", None)])  # back to the layout of before sites existed
    before = executor.loader.project_state(
        [("telemetry", "0007_quarter_hour_rollups"), ("fleet", "0002_default_alert_rules")]
    ).apps
    site = before.get_model("telemetry", "Site").objects.create(
        name="Lyon", code="lyon", time_zone="Europe/Paris", latitude=45.75, longitude=4.85
    )
    rack = before.get_model("telemetry", "AssetType").objects.create(name="Rack", kind="battery")
    before.get_model("telemetry", "Battery").objects.create(site=site, type=rack, name="Pack", serial="SN-1")
    before.get_model("fleet", "Device").objects.create(site=site, external_id="pi-1", name="pi-1")
    content_types = before.get_model("contenttypes", "ContentType").objects
    content_type = content_types.get(app_label="telemetry", model="site").pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Site.objects.get(code="lyon")
    assert (moved.pk, moved.name, moved.time_zone, moved.latitude) == (site.pk, "Lyon", "Europe/Paris", 45.75)
    assert Battery.objects.get(serial="SN-1").site == moved
    assert Device.objects.get(external_id="pi-1").site == moved
    assert content_types.get(pk=content_type).app_label == "sites"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('sites_site') IS NOT NULL, to_regclass('telemetry_site') IS NULL")
        assert cursor.fetchone() == (True, True)
