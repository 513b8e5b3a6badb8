"""Charging data sources, their imports, file uploads."""

urlpatterns = []
