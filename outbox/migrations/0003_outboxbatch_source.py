from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("outbox", "0002_payload_lz4")]

    operations = [
        migrations.AlterField(
            model_name="outboxbatch", name="payload", field=models.TextField(blank=True, default="")
        ),
        migrations.AddField(model_name="outboxbatch", name="source", field=models.JSONField(blank=True, null=True)),
    ]
