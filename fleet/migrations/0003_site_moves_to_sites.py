import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Devices point at the sites app's Site (sites 0001). State only: the column and its
    constraint already reference the table sites took over from telemetry."""

    dependencies = [
        ("fleet", "0002_default_alert_rules"),
        ("sites", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="device",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="devices", to="sites.site"
                    ),
                ),
            ],
        ),
    ]
