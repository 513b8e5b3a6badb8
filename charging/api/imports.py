"""Sources, imports (refresh, upload, job status) over the API."""

urlpatterns = []
