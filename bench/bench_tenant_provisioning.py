"""Tenant provisioning: how long a ready tenant (schema, domain, first admin) takes to create with
0, 100 and 500 tenants already present, against the physical ceiling (cloning the template schema
alone), and how long a no-op `migrate_schemas` takes over every tenant.

Runs in its own database (`voltwatch_bench`, recreated each run). Prints figures; asserts nothing.
    .venv/bin/python bench/bench_tenant_provisioning.py [--tenants 500] [--samples 7]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from bench.setup import recreate_database

BENCH_DATABASE = "voltwatch_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument(
        "--stock-sample",
        type=int,
        default=25,
        help="schemas migrated with django-tenants' stock per-schema loop, for comparison",
    )
    options = parser.parse_args()

    recreate_database(BENCH_DATABASE)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.clone import CloneSchema

    from provisioning.services import create_client
    from tenants.cloning import clone_template
    from tenants.models import Client

    call_command("migrate_schemas", interactive=False, verbosity=0)
    counter = iter(range(1_000_000))

    def provision() -> float:
        n = next(counter)
        started = time.perf_counter()
        create_client(
            name=f"Bench {n}", slug=f"bench{n}", admin_email=f"admin@bench{n}.test", admin_password="bench-password-123"
        )
        return time.perf_counter() - started

    def timed_copy(copy) -> float:
        n = next(counter)
        started = time.perf_counter()
        with transaction.atomic():
            copy(settings.TENANT_BASE_SCHEMA, f"rawcopy{n}")
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "rawcopy{n}" CASCADE')
        return elapsed

    def stock_clone(template: str, schema: str) -> None:
        CloneSchema().clone_schema(template, schema, "DATA")

    rows = []
    checkpoints = sorted({0, min(100, options.tenants), options.tenants})
    for checkpoint in checkpoints:
        filled = time.perf_counter()
        while Client.objects.exclude(schema_name="public").count() < checkpoint:
            provision()
        if checkpoint:
            print(f"  filled to {checkpoint} tenants in {time.perf_counter() - filled:.1f} s", flush=True)
        samples = [provision() for _ in range(options.samples)]
        copies = [timed_copy(clone_template) for _ in range(options.samples)]
        stock = [timed_copy(stock_clone) for _ in range(3)]
        rows.append(
            (checkpoint, statistics.median(samples), max(samples), statistics.median(copies), statistics.median(stock))
        )

    total = Client.objects.exclude(schema_name="public").count()
    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    noop_migrate = time.perf_counter() - started

    stock_schemas = list(
        Client.objects.exclude(schema_name="public").values_list("schema_name", flat=True)[: options.stock_sample]
    )
    started = time.perf_counter()
    for schema in stock_schemas:  # the path django-tenants takes for every schema, up to date or not
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    stock_per_schema = (time.perf_counter() - started) / len(stock_schemas)

    print()
    print("Tenant provisioning (schema cloned from the template + domain + first admin, one transaction)")
    print(
        f"{'tenants present':>16} {'median s':>9} {'max s':>7} {'schema copy s':>14} {'ratio':>6} "
        f"{'stock clone_schema s':>21}"
    )
    for present, median, worst, copy, stock in rows:
        print(f"{present:>16} {median:>9.3f} {worst:>7.3f} {copy:>14.3f} {median / copy:>6.2f} {stock:>21.3f}")
    print("  schema copy = the template copy alone (tenants.cloning), the floor under a ready tenant; the rest")
    print("  is the client and domain rows and the admin user with its Argon2 hash (~0.1 s by design).")
    print("  stock clone_schema = django-tenants' PL/pgSQL clone, which this project replaced (slows with count).")
    print()
    print(f"No-op migrate_schemas over {total} tenants (+ template): {noop_migrate:.2f} s")
    print(
        f"django-tenants' stock per-schema loop: {stock_per_schema:.3f} s per schema "
        f"(measured on {len(stock_schemas)}) -> ~{stock_per_schema * total:.0f} s for {total}"
    )
    print(f"Targets: median <= 1 s per tenant at {options.tenants}; no-op migrate <= 120 s.")


if __name__ == "__main__":
    main()
