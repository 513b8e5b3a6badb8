"""Platform staff create, suspend and reactivate client companies."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_exists

from tenants.models import Client, Domain


def test_staff_create_a_client_in_the_admin_and_its_admin_can_sign_in(staff_client):
    response = staff_client.post(
        "/admin/tenants/client/add/",
        {
            "name": "Gamma Grid",
            "slug": "gamma",
            "domain": "",
            "admin_email": "boss@gamma.test",
            "timezone": "America/Montreal",
            "language": "en",
            "max_users": "",
            "api_rate": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    password = re.search(r"password <code>([^<]+)</code>", page).group(1)
    assert "gamma.localhost" in page
    assert schema_exists("gamma")
    assert Domain.objects.get(domain="gamma.localhost").tenant.name == "Gamma Grid"
    portal = HttpClient(HTTP_HOST="gamma.localhost")
    signed_in = portal.post("/accounts/login/", {"username": "boss@gamma.test", "password": password})
    assert signed_in.status_code == 302
    assert portal.get("/").status_code == 200


def test_the_admin_form_refuses_a_slug_that_is_taken(staff_client, alpha):
    response = staff_client.post(
        "/admin/tenants/client/add/",
        {"name": "Copy", "slug": "alpha", "admin_email": "x@y.test", "timezone": "UTC", "language": "en"},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_create_client_command_provisions_a_ready_tenant(db, worlds, capsys):
    call_command("create_client", name="Delta", slug="delta", admin_email="a@delta.test", password="s3cret-pass-long")

    output = capsys.readouterr().out
    assert "http://delta.localhost" in output
    assert "a@delta.test / s3cret-pass-long" in output
    portal = HttpClient(HTTP_HOST="delta.localhost")
    response = portal.post("/accounts/login/", {"username": "a@delta.test", "password": "s3cret-pass-long"})
    assert response.status_code == 302


def test_create_client_command_says_what_to_fix_and_creates_nothing(db, worlds):
    with pytest.raises(CommandError, match="--slug: Use 2-40 lowercase letters"):
        call_command("create_client", name="Bad", slug="Bad-Slug!", admin_email="a@b.test")

    assert not Client.objects.filter(name="Bad").exists()


def test_a_failed_provisioning_leaves_nothing_behind(db, worlds, monkeypatch):
    from accounts.models import UserManager
    from provisioning.services import create_client

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(UserManager, "create_user", crash)
    with pytest.raises(RuntimeError):
        create_client(name="Half", slug="half", admin_email="a@half.test", admin_password="x" * 12)

    assert not Client.objects.filter(schema_name="half").exists()
    assert not schema_exists("half")


def test_staff_api_creates_a_client(worlds, db):
    from accounts.services import create_api_key

    _key, token = create_api_key(name="staff automation", scopes=["read", "write"])  # public schema: staff key
    api = HttpClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {token}")

    response = api.post(
        "/api/v1/clients/",
        {"name": "Epsilon", "slug": "epsilon", "admin_email": "e@eps.test"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["portal_url"] == "http://epsilon.localhost/"
    assert response.json()["admin"]["password"]
    bad = api.post("/api/v1/clients/", {"name": "", "slug": "x"}, content_type="application/json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"name", "admin_email"}


def test_a_tenant_key_cannot_use_the_staff_api(alpha):
    response = HttpClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {alpha.api_token}").get(
        "/api/v1/clients/"
    )

    assert response.status_code == 401


def test_a_suspended_tenant_shows_a_suspended_page_and_its_api_answers_403(staff_client, alpha):
    assert alpha.api().get("/api/v1/me").status_code == 200  # the host is resolved, and remembered

    staff_client.post(
        "/admin/tenants/client/",
        {"action": "suspend", "_selected_action": [alpha.tenant.pk]},
    )

    page = alpha.http().get("/accounts/login/")
    assert page.status_code == 403
    assert "Account suspended" in page.content.decode()

    api = alpha.api().get("/api/v1/me")
    assert api.status_code == 403
    assert api.json()["error"] == "tenant_suspended"
    assert "Alpha Energy" in api.json()["detail"]


def test_a_reactivated_tenant_works_again(staff_client, alpha):
    from provisioning.services import reactivate_client, suspend_client

    suspend_client(client=Client.objects.get(pk=alpha.tenant.pk), reason="unpaid invoice")
    assert "unpaid invoice" in alpha.api().get("/api/v1/me").json()["detail"]

    reactivate_client(client=Client.objects.get(pk=alpha.tenant.pk))

    assert alpha.api().get("/api/v1/me").status_code == 200


def test_seed_demo_is_idempotent(db, worlds):
    from django_tenants.utils import schema_context

    from accounts.models import ApiKey, User

    call_command("seed_demo")
    call_command("seed_demo")

    assert Client.objects.filter(schema_name__in=["nordbatt", "bornexpress"]).count() == 2
    with schema_context("nordbatt"):
        assert sorted(User.objects.values_list("role", flat=True)) == ["admin", "operator", "viewer"]
        assert ApiKey.objects.count() == 1


def _change_form(client: Client, **changes) -> dict:
    """The staff admin's change form of `client` as it shows it, with `changes` typed in."""
    domain = client.domains.get()
    form = {
        "name": client.name,
        "suspended_reason": client.suspended_reason,
        "timezone": client.timezone,
        "language": client.language,
        "max_users": client.max_users or "",
        "api_rate": client.api_rate,
        "raw_retention_days": client.raw_retention_days or "",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": domain.pk,
        "domains-0-tenant": client.pk,
        "domains-0-domain": domain.domain,
        "domains-0-is_primary": "on",
    }
    return {**form, **changes}


STAFF_ON_ALPHA = ("staff@platform.test", "Alpha Energy", "127.0.0.1")  # who, on which client, from where


def staff_entries(action: str, **filters):
    from accounts.models import AuditLog

    return list(AuditLog.objects.filter(action=action, **filters).order_by("pk"))  # the public schema's log


def test_a_staff_change_of_a_client_s_limits_is_in_the_platform_audit_log(staff_client, alpha):
    client = Client.objects.get(pk=alpha.tenant.pk)
    form = _change_form(client, max_users="5", api_rate="20/s")

    response = staff_client.post(f"/admin/tenants/client/{client.pk}/change/", form)

    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.max_users, client.api_rate) == (5, "20/s")
    [entry] = staff_entries("client.changed")
    assert (entry.actor_label, entry.target_label, entry.ip_address) == STAFF_ON_ALPHA
    assert entry.details["changes"] == {"max_users": [None, 5], "api_rate": ["", "20/s"]}
    page = staff_client.get("/admin/accounts/auditlog/").content.decode()
    assert "client.changed" in page and "Alpha Energy" in page


def test_saving_a_client_unchanged_records_nothing(staff_client, alpha):
    client = Client.objects.get(pk=alpha.tenant.pk)

    assert staff_client.post(f"/admin/tenants/client/{client.pk}/change/", _change_form(client)).status_code == 302

    assert staff_entries("client.changed") == [] and staff_entries("domain.changed") == []


def test_a_domain_staff_add_to_a_client_is_in_the_platform_audit_log(staff_client, alpha):
    client = Client.objects.get(pk=alpha.tenant.pk)
    form = _change_form(
        client,
        **{"domains-TOTAL_FORMS": "2", "domains-1-tenant": client.pk, "domains-1-domain": "portal.alpha-energy.test"},
    )

    assert staff_client.post(f"/admin/tenants/client/{client.pk}/change/", form).status_code == 302

    assert Domain.objects.filter(tenant=client, domain="portal.alpha-energy.test").exists()
    [entry] = staff_entries("domain.created")
    assert (entry.actor_label, entry.target_label) == ("staff@platform.test", "portal.alpha-energy.test")


def test_suspending_a_client_in_the_admin_records_who_did(staff_client, alpha):
    staff_client.post("/admin/tenants/client/", {"action": "suspend", "_selected_action": [alpha.tenant.pk]})

    [entry] = staff_entries("client.suspended")
    assert (entry.actor_label, entry.target_label, entry.ip_address) == STAFF_ON_ALPHA


def test_a_client_created_in_the_admin_with_limits_has_them_from_the_start(staff_client):
    form = {"name": "Zeta", "slug": "zeta", "admin_email": "a@zeta.test", "timezone": "UTC", "language": "en",
            "max_users": "3", "api_rate": "600/min"}  # fmt: skip

    assert staff_client.post("/admin/tenants/client/add/", form).status_code == 302

    zeta = Client.objects.get(schema_name="zeta")
    assert (zeta.max_users, zeta.api_rate) == (3, "600/min")
    [entry] = staff_entries("client.created", target_label="Zeta")
    assert (entry.actor_label, entry.details["max_users"], entry.details["api_rate"]) == (
        "staff@platform.test",
        3,
        "600/min",
    )


def test_a_client_staff_delete_in_the_admin_goes_with_its_schema_and_is_in_the_platform_audit_log(staff_client):
    from provisioning.services import create_client

    eta = create_client(name="Eta", slug="eta", admin_email="a@eta.test", admin_password="x" * 12).client
    with connection.cursor() as cursor:
        # Made in this test's transaction, the new schema's rows still have their foreign keys to
        # check, which DROP refuses to leave behind; a client staff delete was made long before.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    response = staff_client.post(f"/admin/tenants/client/{eta.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Client.objects.filter(schema_name="eta").exists() and not schema_exists("eta")
    [entry] = staff_entries("client.deleted", target_label="Eta")
    assert entry.actor_label == "staff@platform.test"
