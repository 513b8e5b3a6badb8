import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Site now belongs to the sites app (sites 0001): batteries and meters point there and
    telemetry forgets the model. State only: the columns and constraints already reference the
    table sites took over. Fleet's devices must point there first, or the state would keep a
    foreign key to a model it no longer has."""

    dependencies = [
        ("telemetry", "0007_quarter_hour_rollups"),
        ("sites", "0001_initial"),
        ("fleet", "0003_site_moves_to_sites"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="battery",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="batteries", to="sites.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="meter",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="meters", to="sites.site"
                    ),
                ),
                migrations.DeleteModel(name="Site"),
            ],
        ),
    ]
