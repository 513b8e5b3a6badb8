"""Create a tenant schema as an exact copy of the template schema, in time independent of the tenant count.

django-tenants' generic `clone_schema()` (a large PL/pgSQL function) walks catalog views that span
every schema, so each clone gets slower as tenants accumulate: seconds per tenant past a hundred.
This module reads the template's catalog once into a "recipe" of plain DDL (tables, their data,
constraints and indexes under their original names, so later migrations find them) and replays it
for each new schema in one round-trip. The recipe is rebuilt when the template is migrated.

Templates holding objects the recipe does not copy (views, triggers, functions, types, free
sequences) make `clone_template` return False so the caller can fall back to the generic clone.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_exists

LIKE_OPTIONS = "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS"
CONSTRAINT_ORDER = "CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3 ELSE 4 END"


@dataclass(frozen=True)
class CloneRecipe:
    template: str
    signature: tuple
    statements: tuple[str, ...]


_recipes: dict[str, CloneRecipe] = {}


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _signature(cursor, template: str) -> tuple:
    """Changes whenever the template is migrated."""
    cursor.execute(f"SELECT count(*), max(id) FROM {_quote(template)}.django_migrations")
    return tuple(cursor.fetchone())


def _has_uncopyable_objects(cursor, template: str) -> bool:
    cursor.execute(
        """
        SELECT
          (SELECT count(*) FROM pg_class WHERE relnamespace = %(ns)s::regnamespace
             AND relkind NOT IN ('r', 'i', 'S'))
        + (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal)
        + (SELECT count(*) FROM pg_proc WHERE pronamespace = %(ns)s::regnamespace)
        + (SELECT count(*) FROM pg_type t WHERE typnamespace = %(ns)s::regnamespace
             AND typtype IN ('e', 'd', 'r', 'm')
             OR (typnamespace = %(ns)s::regnamespace AND typtype = 'c'
                 AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'r')))
        + (SELECT count(*) FROM pg_class s WHERE s.relnamespace = %(ns)s::regnamespace AND s.relkind = 'S'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.deptype = 'i'))
        """,
        {"ns": template},
    )
    return cursor.fetchone()[0] > 0


def _build_recipe(cursor, template: str, signature: tuple) -> CloneRecipe | None:
    if _has_uncopyable_objects(cursor, template):
        return None
    qt = _quote(template)
    cursor.execute(
        "SELECT c.oid, c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' "
        "ORDER BY c.relname",
        [template],
    )
    tables = cursor.fetchall()
    statements = [f"CREATE TABLE {_quote(name)} (LIKE {qt}.{_quote(name)} {LIKE_OPTIONS})" for _oid, name in tables]

    for oid, name in tables:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qt}.{_quote(name)})")
        if not cursor.fetchone()[0]:
            continue
        statements.append(f"INSERT INTO {_quote(name)} SELECT * FROM {qt}.{_quote(name)}")
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attidentity <> '' AND NOT attisdropped",
            [oid],
        )
        for (column,) in cursor.fetchall():
            cursor.execute(f"SELECT coalesce(max({_quote(column)}), 0) + 1 FROM {qt}.{_quote(name)}")
            statements.append(
                f"ALTER TABLE {_quote(name)} ALTER COLUMN {_quote(column)} RESTART WITH {cursor.fetchone()[0]}"
            )

    # Deparsed with only the template on the search path, definitions name their tables unqualified,
    # so they resolve inside whichever schema the recipe is replayed in.
    # (A failure aborts the transaction, whose rollback restores the search path too.)
    cursor.execute("SELECT current_setting('search_path'), quote_ident(%s)", [template])
    previous_path, deparsed_template = cursor.fetchone()
    cursor.execute("SELECT set_config('search_path', %s, true)", [qt])
    cursor.execute(
        f"SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con "
        f"JOIN pg_class c ON c.oid = con.conrelid WHERE con.connamespace = %s::regnamespace "
        f"AND con.contype IN ('p', 'u', 'c', 'x', 'f') ORDER BY {CONSTRAINT_ORDER}, c.relname, con.conname",
        [template],
    )
    statements += [
        f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}"
        for table, name, definition in cursor.fetchall()
    ]
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relnamespace = %s::regnamespace AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) "
        "ORDER BY c.relname",
        [template],
    )
    statements += [definition.replace(f" ON {deparsed_template}.", " ON ", 1) for (definition,) in cursor.fetchall()]
    cursor.execute("SELECT set_config('search_path', %s, true)", [previous_path])
    return CloneRecipe(template, signature, tuple(statements))


def clone_template(template: str, schema: str) -> bool:
    """Create `schema` as a copy of `template` (structure and data). False if the template holds
    objects this copy does not handle; nothing is created then."""
    # set_config(..., true) lasts until the end of the transaction: there must be one.
    with transaction.atomic(), connection.cursor() as cursor:
        signature = _signature(cursor, template)
        recipe = _recipes.get(template)
        if recipe is None or recipe.signature != signature:
            recipe = _build_recipe(cursor, template, signature)
            if recipe is None:
                return False
            _recipes[template] = recipe
        cursor.execute("SELECT current_setting('search_path')")
        previous_path = cursor.fetchone()[0]
        cursor.execute(f"CREATE SCHEMA {_quote(schema)}")
        cursor.execute("SELECT set_config('search_path', %s, true)", [_quote(schema)])
        cursor.execute(";\n".join(recipe.statements))
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous_path])
    return True


def ensure_template_schema(verbosity: int = 0) -> None:
    """Create or migrate the schema new tenants are cloned from."""
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command("migrate_schemas", schema_name=template, tenant=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
