from django.db import models
from django.utils import timezone


class OutboxBatch(models.Model):
    """Messages for one Kafka topic, written in the same transaction as the data they announce.

    One row carries many messages (a JSON list of `[key, value]`): ingesting 5,000 readings writes
    one outbox row, not 5,000. The table lives in the public schema so one relay serves every tenant.
    """

    topic = models.CharField(max_length=200)
    messages = models.PositiveIntegerField()
    payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "outbox_batch"
        verbose_name = "outbox batch"
        verbose_name_plural = "outbox batches"

    def __str__(self) -> str:
        return f"{self.messages} → {self.topic}"
