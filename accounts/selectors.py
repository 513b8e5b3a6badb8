from django.db.models import Count, Q, QuerySet

from accounts.models import ApiKey, AuditLog, User


def tenant_users() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "email")


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def recent_audit_entries(limit: int = 50) -> QuerySet[AuditLog]:
    return AuditLog.objects.order_by("-created_at")[:limit]


def tenant_overview_counts() -> dict[str, int]:
    users = User.objects.aggregate(total=Count("id"), active=Count("id", filter=Q(is_active=True)))
    return {
        "users": users["active"],
        "api_keys": ApiKey.objects.filter(revoked_at__isnull=True).count(),
    }
