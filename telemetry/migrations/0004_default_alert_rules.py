from django.db import migrations

from telemetry.rules import install


def install_default_rules(apps, schema_editor):
    install(apps.get_model("alerts", "AlertRule"))


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0003_readings"), ("alerts", "0001_initial")]

    operations = [migrations.RunPython(install_default_rules, migrations.RunPython.noop)]
