"""The staff admin (public host) and a company's admin (its own host) sign people in and out on their
own pages, and lock a name out after repeated failures, whatever the request carries."""

from django.conf import settings
from django.test import Client as HttpClient

from tests.conftest import PASSWORD


def _public() -> HttpClient:
    return HttpClient(HTTP_HOST=settings.BASE_DOMAIN)


def test_the_fifth_failed_staff_sign_in_answers_that_the_account_is_locked(worlds, db):
    client = _public()
    answers = [
        client.post("/admin/login/?next=/admin/", {"username": "staff@platform.test", "password": "wrong"})
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]

    assert [answer.status_code for answer in answers] == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert "Too many sign-in attempts" in answers[-1].content.decode()


def test_a_locked_out_staff_member_is_refused_even_with_the_right_password(worlds, db):
    client = _public()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "staff@platform.test", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "staff@platform.test", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_lockout_page_of_a_company_host_offers_a_password_reset(alpha):
    client = alpha.http()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "viewer@alpha.test", "password": "wrong"})

    assert response.status_code == 429
    assert 'href="/accounts/password-reset/"' in response.content.decode()


def test_a_staff_sign_in_without_a_next_page_lands_on_the_staff_admin(worlds, db):
    client = _public()

    response = client.post("/admin/login/", {"username": "staff@platform.test", "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_a_company_admin_sign_in_without_a_next_page_lands_on_its_admin(alpha):
    client = alpha.http()

    response = client.post("/admin/login/", {"username": "admin@alpha.test", "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_staff_signing_out_of_the_admin_land_on_its_sign_in_page(worlds, db):
    client = _public()
    client.post("/admin/login/", {"username": "staff@platform.test", "password": PASSWORD})

    response = client.post("/admin/logout/")

    assert response.status_code in (200, 302)
    assert client.get("/admin/").status_code == 302
