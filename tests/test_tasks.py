"""Celery tasks run inside the tenant they are given; the fan-out reaches every active tenant."""

from django.db import connection

from tenants.models import Client
from tenants.tasks import run_for_all_tenants, tenant_task

seen: list[tuple[str, int]] = []


@tenant_task(name="tests.count_users")
def count_users_in_current_schema(marker: str = "beat") -> int:
    from accounts.models import User

    count = User.objects.count()
    seen.append((connection.schema_name, marker))
    return count


def test_a_tenant_task_runs_in_the_named_tenants_schema(alpha, beta):
    from django_tenants.utils import schema_context

    from accounts.services import invite_user

    with schema_context(beta.slug):
        invite_user(email="extra@beta.test", role="viewer")

    assert count_users_in_current_schema.apply(args=["alpha", "a"]).get() == 3
    assert count_users_in_current_schema.apply(args=["beta", "b"]).get() == 4


def test_a_suspended_tenants_tasks_are_skipped(alpha):
    Client.objects.filter(pk=alpha.tenant.pk).update(status="suspended")

    assert count_users_in_current_schema.apply(args=["alpha", "x"]).get() is None


def test_run_for_all_tenants_queues_one_task_per_active_tenant(alpha, beta):
    seen.clear()
    Client.objects.filter(pk=beta.tenant.pk).update(status="suspended")

    queued = run_for_all_tenants(count_users_in_current_schema, "fanout")

    active = Client.objects.filter(status="active").exclude(schema_name="public").count()
    assert queued == active
    assert ("alpha", "fanout") in seen
    assert ("beta", "fanout") not in seen


def test_the_beat_fan_out_queues_a_tenant_task_by_name_in_every_active_tenant(alpha, beta):
    from tenants.tasks import for_each_tenant

    seen.clear()
    active = Client.objects.filter(status="active").exclude(schema_name="public").count()
    assert for_each_tenant.apply(args=["tests.count_users"]).get() == active
    assert {("alpha", "beat"), ("beta", "beat")} <= set(seen)


def test_every_periodic_task_of_beat_names_a_registered_task():
    from django.utils.module_loading import import_string

    from config.celery import app

    for entry in app.conf.beat_schedule.values():
        assert import_string(entry["task"]).name == entry["task"]
        if entry["task"] == "tenants.tasks.for_each_tenant":
            assert import_string(entry["args"][0]).name == entry["args"][0]


def test_every_task_runs_under_a_time_limit():
    from django.utils.module_loading import import_string

    from config.celery import app

    assert (app.conf.task_soft_time_limit, app.conf.task_time_limit) == (60, 90)
    housekeeping = import_string("alerts.tasks.alert_housekeeping")
    assert (housekeeping.soft_time_limit, housekeeping.time_limit) == (300, 330)
