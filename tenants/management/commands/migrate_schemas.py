"""django-tenants' migrate_schemas, made to scale with the tenant count and to keep the platform whole.

- Tenant schemas whose migrations are all applied are found with one catalog query and skipped,
  instead of starting Django's migrate once per schema (seconds per tenant at hundreds of tenants).
- After migrating the public schema it makes sure the public tenant (the base domain) exists and
  that the template schema new tenants are cloned from is up to date.
"""

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor
from django_tenants.utils import get_public_schema_name, schema_exists

from tenants.cloning import ensure_template_schema
from tenants.models import Client, Domain


def tenant_leaf_migrations() -> list[tuple[str, str]]:
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(node for node in graph.leaf_nodes() if node[0] in tenant_labels)


def _applied_leaves_query(schema: str, leaf_count: int) -> str:
    # The schema name comes from the catalog (and was validated as a slug), never from input.
    pairs = ", ".join(["(%s, %s)"] * leaf_count)
    return f'SELECT %s, count(*) FROM "{schema}".django_migrations WHERE (app, name) IN ({pairs})'  # noqa: S608


def schemas_needing_migration(schemas: list[str]) -> list[str]:
    """The schemas that lack a django_migrations table or one of the latest tenant migrations."""
    leaves = tenant_leaf_migrations()
    if not schemas:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [schemas],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        up_to_date: set[str] = set()
        candidates = [s for s in schemas if s in with_table]
        for start in range(0, len(candidates), 200):
            chunk = candidates[start : start + 200]
            union = " UNION ALL ".join(_applied_leaves_query(schema, len(leaves)) for schema in chunk)
            params: list[str] = []
            for schema in chunk:
                params.append(schema)
                for app, name in leaves:
                    params += [app, name]
            cursor.execute(union, params)
            up_to_date |= {schema for schema, count in cursor.fetchall() if count == len(leaves)}
    return [s for s in schemas if s not in up_to_date]


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        targeted = (
            options.get("schema_name")
            or options.get("app_label")
            or options.get("fake")
            or (options.get("plan") or options.get("check_unapplied") or options.get("prune"))
        )
        if targeted or options.get("shared") or options.get("tenant"):
            return super().handle(*args, **options)

        super().handle(*args, **dict(options, shared=True, tenant=False))
        self.ensure_public_tenant()
        schemas = list(
            Client.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
        )
        if schema_exists(settings.TENANT_BASE_SCHEMA):
            schemas.append(settings.TENANT_BASE_SCHEMA)
        pending = schemas_needing_migration(schemas)
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(f"{len(schemas) - len(pending)} tenant schema(s) up to date, {len(pending)} to migrate")
        if pending:
            executor = get_executor(codename=options.get("executor"))(args, dict(options, tenant=True, shared=False))
            executor.run_migrations(tenants=pending)
        if not schema_exists(settings.TENANT_BASE_SCHEMA):
            ensure_template_schema(verbosity=options.get("verbosity", 1))
        connection.set_schema_to_public()

    @staticmethod
    def ensure_public_tenant() -> None:
        public, _created = Client.objects.get_or_create(
            schema_name=get_public_schema_name(), defaults={"name": "Voltwatch"}
        )
        Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
