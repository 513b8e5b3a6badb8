from django.db import models
from django.utils import timezone


class OutboxBatch(models.Model):
    """Messages for one Kafka topic, written in the same transaction as the data they announce.

    One row carries many messages, in one of two forms:
    - `payload`: the messages themselves, one `key SEPARATOR json` per line;
    - `source`: a reference to rows the same transaction wrote (`{"loader": name, …}`), which the
      relay turns into messages with that loader (`outbox.services.register_loader`). Ingesting
      5,000 readings writes one small row, and the events are read from what was stored.
    The table lives in the public schema so one relay serves every tenant.
    """

    topic = models.CharField(max_length=200)
    messages = models.PositiveIntegerField()
    payload = models.TextField(blank=True, default="")
    source = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "outbox_batch"
        verbose_name = "outbox batch"
        verbose_name_plural = "outbox batches"

    def __str__(self) -> str:
        return f"{self.messages} → {self.topic}"
