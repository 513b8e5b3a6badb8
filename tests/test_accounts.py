"""Tenant admins manage their people and keys; everyone can sign in, out, and reset a password."""

import re

from django.conf import settings
from django.core import mail
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD


def test_an_admin_invites_a_user_who_sets_a_password_from_the_email(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha.http("admin").post(
            "/settings/users/", {"email": "new@alpha.test", "full_name": "New Person", "role": "operator"}
        )

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["new@alpha.test"]
    link = re.search(r"http://alpha\.localhost(/accounts/reset/\S+)", invitation.body).group(1)
    visitor = alpha.http()
    form = visitor.get(link, follow=True)
    assert form.status_code == 200
    done = visitor.post(
        form.redirect_chain[-1][0], {"new_password1": "a-brand-new-pass", "new_password2": "a-brand-new-pass"}
    )
    assert done.status_code == 302
    member = alpha.sign_in("new@alpha.test", "a-brand-new-pass")
    assert member.get("/api/v1/me").json()["principal"]["role"] == "operator"


def test_an_invitation_made_while_the_broker_is_down_is_sent_at_once(alpha, django_capture_on_commit_callbacks):
    from config.celery import app
    from core.redis_client import redis_breaker

    app.conf.task_always_eager = False  # as in production: the email would go through the broker
    redis_breaker.trip(ConnectionError("Redis is down"))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = alpha.http("admin").post("/settings/users/", {"email": "late@alpha.test", "role": "viewer"})
    finally:
        redis_breaker.reset()
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["late@alpha.test"]]


def test_inviting_an_existing_email_says_so(alpha):
    response = alpha.http("admin").post("/settings/users/", {"email": "viewer@alpha.test", "role": "viewer"})

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_the_user_limit_of_the_plan_is_enforced(alpha):
    from tenants.models import Client

    Client.objects.filter(pk=alpha.tenant.pk).update(max_users=3)

    response = alpha.http("admin").post("/settings/users/", {"email": "fourth@alpha.test", "role": "viewer"})

    assert response.status_code == 400
    assert "allows 3 active users" in response.content.decode()


def test_an_admin_changes_a_role_and_it_is_audited(alpha):
    from accounts.models import AuditLog, User

    viewer = alpha.users["viewer"]
    alpha.http("admin").post(f"/settings/users/{viewer.pk}/", {"action": "role", "role": "operator"})

    with schema_context(alpha.slug):
        assert User.objects.get(pk=viewer.pk).role == "operator"
        entry = AuditLog.objects.get(action="user.role_changed")
        assert entry.actor_label == "admin@alpha.test"
        assert entry.details == {"previous": "viewer", "role": "operator"}


def test_a_deactivated_user_can_no_longer_sign_in(alpha):
    operator = alpha.users["operator"]
    alpha.http("admin").post(f"/settings/users/{operator.pk}/", {"action": "deactivate"})

    assert alpha.sign_in("operator@alpha.test", PASSWORD) is None


def test_an_admin_cannot_demote_themself(alpha):
    admin = alpha.users["admin"]
    response = alpha.http("admin").post(
        f"/settings/users/{admin.pk}/", {"action": "role", "role": "viewer"}, follow=True
    )

    assert "cannot remove your own admin role" in response.content.decode()


def test_operators_and_viewers_cannot_manage_users_or_keys(alpha):
    for role in ("operator", "viewer"):
        client = alpha.http(role)
        assert client.get("/settings/users/").status_code == 403
        assert client.get("/settings/api-keys/").status_code == 403
        assert client.post("/settings/api-keys/", {"name": "x", "scopes": ["read"]}).status_code == 403


def test_a_new_api_key_is_shown_once_and_stored_hashed(alpha):
    from accounts.models import ApiKey

    admin = alpha.http("admin")
    response = admin.post("/settings/api-keys/", {"name": "SCADA bridge", "scopes": ["read", "ingest"]})

    token = re.search(r'data-testid="api-key-token">([^<]+)<', response.content.decode()).group(1)
    assert alpha.api(token).get("/api/v1/me").json()["scopes"] == ["ingest", "read"]
    assert token not in admin.get("/settings/api-keys/").content.decode()
    with schema_context(alpha.slug):
        stored = ApiKey.objects.get(name="SCADA bridge")
        assert token not in (stored.key_hash, stored.prefix)
    assert response["Cache-Control"] == "no-store"


def test_the_keys_page_shows_when_each_key_was_last_used(alpha):
    alpha.api(alpha.read_token).get("/api/v1/me")

    page = alpha.http("admin").get("/settings/api-keys/").content.decode()

    reader_row = page[page.index("reader") :]
    assert "never" not in reader_row[: reader_row.index("</tr>")]


def test_password_reset_sends_a_working_link(alpha):
    alpha.http().post("/accounts/password-reset/", {"email": "viewer@alpha.test"})

    assert len(mail.outbox) == 1
    [link] = re.findall(r"http://alpha\.localhost(/accounts/reset/\S+/)", mail.outbox[0].body)
    browser = alpha.http()
    form = browser.get(link, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    new_password = {"new_password1": "a-new-long-secret", "new_password2": "a-new-long-secret"}
    done = browser.post(form.redirect_chain[-1][0], new_password)
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert alpha.sign_in("viewer@alpha.test", "a-new-long-secret") is not None
    assert alpha.sign_in("viewer@alpha.test", PASSWORD) is None


def test_password_reset_for_an_unknown_email_says_the_same_and_sends_nothing(alpha):
    response = alpha.http().post("/accounts/password-reset/", {"email": "ghost@alpha.test"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_repeated_failed_logins_lock_the_account_for_a_while(alpha):
    client = alpha.http()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "viewer@alpha.test", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "viewer@alpha.test", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


def test_the_profile_sets_language_and_time_zone(alpha):
    client = alpha.http("viewer")
    client.post("/settings/profile/", {"full_name": "Vi", "language": "fr", "time_zone": "America/Montreal"})

    page = client.get("/").content.decode()

    assert 'lang="fr"' in page
    assert "Vue d’ensemble" in page or "Vue d'ensemble" in page
    assert "America/Montreal" in page
