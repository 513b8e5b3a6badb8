"""`/api/v1/telemetry/…`: assets, readings ingestion (generic and device formats), series, exports."""

from telemetry.api import assets, devices, ingest, series

urlpatterns = [*ingest.urlpatterns, *devices.urlpatterns, *series.urlpatterns, *assets.urlpatterns]
