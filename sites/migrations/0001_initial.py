from django.db import migrations, models


class Migration(migrations.Migration):
    """Site moves here from telemetry with its rows: the table telemetry 0001 created (no later
    migration touched it) is taken over as it is, so this changes the state only. The foreign keys
    then point here (telemetry 0008, fleet 0003), and 0002 gives the table this app's name."""

    initial = True

    dependencies = [("telemetry", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Site",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        ("code", models.SlugField(max_length=64, unique=True, verbose_name="code")),
                        ("time_zone", models.CharField(blank=True, max_length=64, verbose_name="time zone")),
                        ("address", models.CharField(blank=True, max_length=255, verbose_name="address")),
                        ("latitude", models.FloatField(blank=True, null=True, verbose_name="latitude")),
                        ("longitude", models.FloatField(blank=True, null=True, verbose_name="longitude")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "verbose_name": "site",
                        "verbose_name_plural": "sites",
                        "ordering": ["name"],
                        "db_table": "telemetry_site",
                    },
                ),
            ],
        ),
    ]
