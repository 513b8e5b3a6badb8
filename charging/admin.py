"""The company admin's view of its charging sources (the portal has the same, with Test connection
and the imports) and a read-only list of the imports. Writes go through the services: audited, the
password never shown back (left empty, the stored one is kept)."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from charging import services
from charging.models import ChargingSource, ImportRun
from core.admin_sites import tenant_admin_site
from core.http import client_ip

EDITABLE = ["name", "kind", "host", "port", "database", "user", "password", "sessions_table", "faults_table",
            "vehicles_table", "link_template", "time_zone", "margin_hours", "enabled"]  # fmt: skip


class ChargingSourceForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the stored one."),
    )

    class Meta:
        model = ChargingSource
        fields = EDITABLE


@admin.register(ChargingSource, site=tenant_admin_site)
class ChargingSourceAdmin(admin.ModelAdmin):
    form = ChargingSourceForm
    list_display = ["name", "kind", "host", "database", "enabled", "last_success_at", "unreachable_since"]
    readonly_fields = ["last_success_at", "unreachable_since", "last_error"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in EDITABLE}
        if change:
            services.source_update(source=obj, by=request.user, ip_address=client_ip(request), **values)
        else:
            created = services.source_create(by=request.user, ip_address=client_ip(request), **values)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.source_delete(source=obj, by=request.user, ip_address=client_ip(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for source in queryset:
                self.delete_model(request, source)


@admin.register(ImportRun, site=tenant_admin_site)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "trigger", "status", "rows_read", "rows_created", "rows_updated",
                    "rows_rejected"]  # fmt: skip
    list_filter = ["status", "trigger", "source"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
