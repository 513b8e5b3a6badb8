"""The Charging section: filters, the 13 tabs, exports, the session list."""

urlpatterns = []
