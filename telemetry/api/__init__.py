"""`/api/v1/telemetry/…`: assets, readings ingestion, series, exports."""

from telemetry.api import assets, ingest

urlpatterns = [*ingest.urlpatterns, *assets.urlpatterns]
