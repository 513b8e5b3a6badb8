from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_sites import public_admin_site
from core.http import client_ip
from provisioning import services
from tenants.models import TIMEZONE_CHOICES, Client, Domain
from tenants.selectors import tenant_url


class ClientCreationForm(forms.ModelForm):
    slug = forms.CharField(
        label=_("Slug"), max_length=40, help_text=_("Lowercase letters and digits; becomes <slug>.<base domain>.")
    )
    domain = forms.CharField(
        label=_("Domain"), max_length=253, required=False, help_text=_("Leave empty for <slug>.<base domain>.")
    )
    admin_email = forms.EmailField(label=_("First admin's email"))
    send_invitation = forms.BooleanField(
        label=_("Email an invitation link instead of showing a password"), required=False
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONE_CHOICES, initial="Europe/Paris")

    class Meta:
        model = Client
        fields = ["name", "timezone", "language", "max_users", "api_rate"]

    def clean_slug(self):
        try:
            return services.validate_slug(self.cleaned_data["slug"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["slug"]) from None

    def clean_domain(self):
        domain = self.cleaned_data.get("domain", "")
        if not domain:
            return ""
        try:
            return services.validate_domain(domain)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["domain"]) from None


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Client, site=public_admin_site)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "status_pill", "portal", "timezone", "created_on"]
    list_filter = ["status", "language"]
    search_fields = ["name", "schema_name", "domains__domain"]
    readonly_fields = ["schema_name", "status", "suspended_at", "created_on"]
    fields = [
        "name",
        "schema_name",
        "status",
        "suspended_reason",
        "suspended_at",
        "timezone",
        "language",
        "max_users",
        "api_rate",
        "raw_retention_days",
        "created_on",
    ]
    inlines = [DomainInline]
    actions = ["suspend", "reactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ClientCreationForm
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "name",
                "slug",
                "domain",
                "admin_email",
                "send_invitation",
                "timezone",
                "language",
                "max_users",
                "api_rate",
            ]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            # `obj` holds the form's values already: the service compares them with the stored row.
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.client_update(
                client=Client.objects.get(pk=obj.pk), by=request.user, ip_address=client_ip(request), **fields
            )
            return
        data = form.cleaned_data
        result = services.create_client(
            name=data["name"],
            slug=data["slug"],
            admin_email=data["admin_email"],
            domain=data["domain"],
            time_zone=data["timezone"],
            language=data["language"],
            send_invitation=data["send_invitation"],
            max_users=data.get("max_users"),
            api_rate=data.get("api_rate", ""),
            created_by=request.user,
            ip_address=client_ip(request),
        )
        client = result.client
        obj.pk, obj.schema_name = client.pk, client.schema_name
        obj._state.adding = False
        if result.admin_password:
            messages.warning(
                request,
                format_html(
                    _(
                        'Portal ready at <a href="{url}">{url}</a>. Admin login: <strong>{email}</strong> / '
                        "password <code>{password}</code> — shown only this once."
                    ),
                    url=result.portal_url,
                    email=result.admin_email,
                    password=result.admin_password,
                ),
            )
        else:
            messages.info(
                request,
                _("Portal ready at %(url)s. An invitation link was emailed to %(email)s.")
                % {"url": result.portal_url, "email": result.admin_email},
            )

    def save_related(self, request, form, formsets, change):
        if change:  # a new client's domain is made by create_client
            super().save_related(request, form, formsets, change)

    def save_formset(self, request, form, formset, change):
        """The domains inline, through the services (each addition, change and removal audited)."""
        who = {"by": request.user, "ip_address": client_ip(request)}
        for domain in formset.save(commit=False):
            services.domain_save(domain=domain, **who)
        for domain in formset.deleted_objects:
            services.domain_delete(domain=domain, **who)

    def delete_model(self, request, obj):
        services.client_delete(client=obj, by=request.user, ip_address=client_ip(request))

    def delete_queryset(self, request, queryset):
        for client in queryset:
            self.delete_model(request, client)

    @admin.display(description=_("status"), ordering="status")
    def status_pill(self, client):
        return format_html('<span class="pill pill-{}">{}</span>', client.status, client.get_status_display())

    @admin.display(description=_("portal"))
    def portal(self, client):
        url = tenant_url(client, "/")
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.action(description=_("Suspend the selected clients"))
    def suspend(self, request, queryset):
        for client in queryset:
            services.suspend_client(
                client=client, reason=_("Suspended by platform staff."), by=request.user, ip_address=client_ip(request)
            )
        self.message_user(request, _("%(count)s client(s) suspended.") % {"count": queryset.count()})

    @admin.action(description=_("Reactivate the selected clients"))
    def reactivate(self, request, queryset):
        for client in queryset:
            services.reactivate_client(client=client, by=request.user, ip_address=client_ip(request))
        self.message_user(request, _("%(count)s client(s) reactivated.") % {"count": queryset.count()})
