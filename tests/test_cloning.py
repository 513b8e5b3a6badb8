"""A tenant schema copied from the template is the same, object for object, as one built by migrations,
so that every future migration applies to copied tenants exactly as to migrated ones."""

from django.core.management import call_command
from django.db import connection

from tenants.cloning import clone_template


def describe(schema: str) -> dict:
    """Tables, columns, constraints, indexes and sequences of `schema`, with the schema name left out."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [f'"{schema}"'])
        cursor.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con "
            "JOIN pg_class c ON c.oid = con.conrelid WHERE con.connamespace = %s::regnamespace",
            [schema],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, replace(pg_get_indexdef(c.oid), %s, '') FROM pg_class c "
            "WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'i'",
            [f"{schema}.", schema],
        )
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'S'", [schema])
        sequences = {row[0] for row in cursor.fetchall()}
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        migrations = set(cursor.fetchall())
        cursor.execute(f'SELECT count(*) FROM "{schema}".auth_permission')
        permissions = cursor.fetchone()[0]
    connection.set_schema_to_public()
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "sequences": sequences,
        "migrations": migrations,
        "permissions": permissions,
    }


def test_a_copied_schema_matches_a_migrated_one(db, worlds):
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "built_by_migrations"')
    call_command("migrate_schemas", schema_name="built_by_migrations", interactive=False, verbosity=0)
    assert clone_template("built_by_migrations", "copied")

    migrated, copied = describe("built_by_migrations"), describe("copied")

    assert migrated["columns"] and migrated["constraints"] and migrated["indexes"]
    for part in migrated:
        assert copied[part] == migrated[part], part


def test_a_copied_schema_hands_out_fresh_ids_after_the_templates_rows(db, worlds):
    from django_tenants.utils import schema_context

    from accounts.models import User

    with schema_context("alpha"):
        user = User.objects.create_user("fresh@alpha.test", "a-long-password")
        assert user.pk > 0
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.create(app_label="bench", model="thing")
        assert content_type.pk > ContentType.objects.exclude(pk=content_type.pk).order_by("-pk").first().pk
        assert Permission.objects.filter(codename="add_user").exists()
