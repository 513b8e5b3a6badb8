"""Compress outbox payloads with lz4 instead of pglz: each batch's megabytes of JSON are TOASTed
once and read once, and pglz cost PostgreSQL 2-3 µs of CPU per message where lz4 costs under one
(measured on 5,000-message batches). Servers built without lz4 keep pglz."""

from django.db import migrations

TO_LZ4 = """
DO $$
BEGIN
    ALTER TABLE outbox_batch ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
    RAISE NOTICE 'lz4 is not available: outbox payloads stay pglz-compressed';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        migrations.RunSQL(TO_LZ4, "ALTER TABLE outbox_batch ALTER COLUMN payload SET COMPRESSION pglz"),
    ]
