from django import forms
from django.contrib import admin

from alerts import configuration
from alerts.models import Alert, AlertRule, Channel, Silence
from core.admin_sites import tenant_admin_site
from core.http import client_ip


class ConfigurationWrites:
    """Saves and deletes through `alerts.configuration`, as the portal and the API do, so that an
    edit in the company's admin site is in its audit log too."""

    entity: str  # the services' prefix: rule, channel, silence

    def _write(self, request, action: str, **kwargs):
        service = getattr(configuration, f"{self.entity}_{action}")
        return service(by=request.user, ip_address=client_ip(request), **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            # `obj` holds the form's values already: the service compares them with the stored row.
            stored = type(obj).objects.get(pk=obj.pk)
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            self._write(request, "update", **{self.entity: stored}, **fields)
            return
        saved = self._write(request, "create", **form.cleaned_data)
        obj.pk = saved.pk  # the admin's message and its next page name the row the service made
        obj._state.adding = False

    def delete_model(self, request, obj):
        self._write(request, "delete", **{self.entity: obj})

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AlertRule, site=tenant_admin_site)
class AlertRuleAdmin(ConfigurationWrites, admin.ModelAdmin):
    entity = "rule"
    list_display = ["name", "source_type", "metric", "operator", "threshold", "severity", "for_minutes", "enabled"]
    list_filter = ["source_type", "severity", "enabled"]
    list_editable = ["threshold", "severity", "enabled"]


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = ["site_id", "source_id", "alert_type", "starts_at", "ends_at", "comment"]

    def clean(self):
        data = super().clean()
        window = {name: data.get(name) for name in ("starts_at", "ends_at", "comment")}
        if all(value is not None for value in window.values()):  # else a field's own error says what is missing
            configuration.validate_silence(**window)
        return data


@admin.register(Silence, site=tenant_admin_site)
class SilenceAdmin(ConfigurationWrites, admin.ModelAdmin):
    entity = "silence"
    form = SilenceForm
    list_display = ["comment", "site_id", "source_id", "alert_type", "starts_at", "ends_at", "author"]
    readonly_fields = ["author"]  # who made it: set by the service, not chosen in a form


@admin.register(Channel, site=tenant_admin_site)
class ChannelAdmin(ConfigurationWrites, admin.ModelAdmin):
    entity = "channel"
    list_display = ["name", "kind", "min_severity", "repeat_interval_minutes", "enabled"]


@admin.register(Alert, site=tenant_admin_site)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["last_seen", "severity", "status", "site_label", "source_label", "type", "occurrences"]
    list_filter = ["status", "severity", "type"]
    search_fields = ["message", "source_label", "site_label"]
    readonly_fields = [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
