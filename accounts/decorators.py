from functools import wraps

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _

from core.views import error_response


def role_required(*roles: str):
    """Only users with one of `roles` may open the view; the others get a 403 page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                return error_response(request, 403, "permission_denied", _("This page is for: %s.") % ", ".join(roles))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
