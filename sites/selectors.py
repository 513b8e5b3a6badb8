"""Reads on sites, for the verticals' pages and APIs (telemetry, fleet and, next, charging)."""

from django.db.models import QuerySet

from sites.models import Site


def sites() -> QuerySet[Site]:
    return Site.objects.order_by("name")
