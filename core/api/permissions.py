from django.conf import settings
from rest_framework import permissions

SAFE_SCOPE = "read"
WRITE_SCOPE = "write"


def principal_scopes(user) -> frozenset[str]:
    return frozenset(getattr(user, "scopes", frozenset()))


class IsTenantMember(permissions.BasePermission):
    """An authenticated caller of this tenant whose scopes cover the request.

    Views may name the scope they need in `required_scope`; otherwise reads need `read` and
    everything else `write`.
    """

    message = "Your credentials do not have the scope this request needs."

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request, "tenant", None)
        user = request.user
        if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
            return False
        if user is None or not user.is_authenticated:
            return False
        needed = getattr(view, "required_scope", None) or (
            SAFE_SCOPE if request.method in permissions.SAFE_METHODS else WRITE_SCOPE
        )
        if needed in principal_scopes(user):
            return True
        self.message = f"This request needs the '{needed}' scope; your credentials have: " + (
            ", ".join(sorted(principal_scopes(user))) or "none"
        )
        return False


class IsPlatformStaff(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        tenant = getattr(request, "tenant", None)
        user = request.user
        return (
            tenant is not None
            and tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
            and user is not None
            and user.is_authenticated
            and user.is_staff
        )
