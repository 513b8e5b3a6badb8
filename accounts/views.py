from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.decorators import role_required
from accounts.forms import ApiKeyForm, ChangeRoleForm, InviteUserForm, ProfileForm
from accounts.models import ApiKey, Role, User
from core.http import client_ip
from core.navigation import SECTIONS

SETTINGS_SECTION = SECTIONS[-1]


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class TenantLoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class TenantPasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"


@login_required
def settings_index(request):
    return redirect("accounts:profile")


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "section": SETTINGS_SECTION, "tab": "profile"})


@role_required(Role.ADMIN)
def users(request):
    form = InviteUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_user(invited_by=request.user, ip_address=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("accounts:users")
    context = {
        "form": form,
        "users": selectors.tenant_users(),
        "roles": Role.choices,
        "section": SETTINGS_SECTION,
        "tab": "users",
    }
    return render(request, "accounts/users.html", context, status=400 if form.errors else 200)


@role_required(Role.ADMIN)
@require_POST
def user_action(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    action = request.POST.get("action")
    try:
        if action == "role":
            form = ChangeRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a valid role."))
            services.change_role(
                user=user, role=form.cleaned_data["role"], by=request.user, ip_address=client_ip(request)
            )
            messages.success(request, _("%(user)s is now %(role)s.") % {"user": user, "role": user.get_role_display()})
        elif action in ("deactivate", "activate"):
            services.set_user_active(
                user=user, active=action == "activate", by=request.user, ip_address=client_ip(request)
            )
            messages.success(request, _("%(user)s updated.") % {"user": user})
        elif action == "reinvite":
            services.send_invitation(user, invited_by=request.user)
            messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": user.email})
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:users")


@role_required(Role.ADMIN)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _key, new_token = services.create_api_key(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            form = ApiKeyForm()
    context = {
        "form": form,
        "keys": selectors.api_keys(),
        "new_token": new_token,
        "section": SETTINGS_SECTION,
        "tab": "api-keys",
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    response = render(request, "accounts/api_keys.html", context, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"  # the page may show a secret once
    return response


@role_required(Role.ADMIN)
@require_POST
def revoke_api_key(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id)
    services.revoke_api_key(key=key, by=request.user, ip_address=client_ip(request))
    messages.success(request, _("The key “%(name)s” is revoked; calls with it now get 401.") % {"name": key.name})
    return redirect("accounts:api-keys")


@role_required(Role.ADMIN)
def audit_log(request):
    return render(
        request,
        "accounts/audit_log.html",
        {"entries": selectors.recent_audit_entries(200), "section": SETTINGS_SECTION, "tab": "audit-log"},
    )
