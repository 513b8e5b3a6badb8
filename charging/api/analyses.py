"""GET /api/v1/charging/analyses/<name> and the session list (charging.analyses)."""

urlpatterns = []
