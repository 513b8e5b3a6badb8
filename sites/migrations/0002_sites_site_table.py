from django.db import migrations

# The relations the table brought from telemetry, under the names Django gives them for sites_site
# (its sequence, primary key, unique code and the code's pattern index), so a database migrated from
# telemetry's days and one Django would create today look alike.
RENAMES = [
    ("SEQUENCE", "telemetry_site_id_seq", "sites_site_id_seq"),
    ("INDEX", "telemetry_site_pkey", "sites_site_pkey"),
    ("INDEX", "telemetry_site_code_key", "sites_site_code_key"),
    ("INDEX", "telemetry_site_code_e63ad9c2_like", "sites_site_code_d38eefae_like"),
]


def _renamed(pairs) -> list[str]:
    return [f'ALTER {kind} IF EXISTS "{old}" RENAME TO "{new}"' for kind, old, new in pairs]


def move_content_type(apps, schema_editor, old=("telemetry", "site"), new=("sites", "site")):
    """The site's content type follows the model, with the permissions and the admin's history that
    hang on it (a new one would leave them on a stale type, which remove_stale_contenttypes deletes).
    A fresh schema has none yet: post_migrate makes it after the migrations."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=new[0], model=new[1]).exists():
        types.filter(app_label=old[0], model=old[1]).update(app_label=new[0])


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old=("sites", "site"), new=("telemetry", "site"))


class Migration(migrations.Migration):
    """The table sites took over from telemetry (0001) gets this app's name. A rename: the rows, and
    the foreign keys of batteries, meters and devices (which follow the table, not its name), stay."""

    dependencies = [
        ("sites", "0001_initial"),
        ("telemetry", "0008_site_moves_to_sites"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="site", table=None),
        migrations.RunSQL(_renamed(RENAMES), _renamed((kind, new, old) for kind, old, new in RENAMES)),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
