from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.db import connection


class LoginAttemptsBackend(AxesStandaloneBackend):
    """Limits sign-in attempts made over HTTP.

    Authentication without a request (management commands, the test client's `login`) has no
    client address to count attempts against, so only HTTP sign-ins are limited.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class CompanyAdminBackend(BaseBackend):
    """A company's admins may do everything within their own company: the permissions Django asks
    for (its configuration admin, at /admin/ on the company's host) follow the role, not per-model
    grants nobody hands out. Platform staff live in the public schema and are not concerned."""

    def _is_company_admin(self, user) -> bool:
        return (
            user.is_active
            and getattr(user, "role", None) == "admin"
            and connection.schema_name != settings.PUBLIC_SCHEMA_NAME
        )

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return self._is_company_admin(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return self._is_company_admin(user_obj)
