from django.contrib import admin

from alerts.models import Alert, AlertRule, Channel, Silence
from core.admin_sites import tenant_admin_site


@admin.register(AlertRule, site=tenant_admin_site)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "source_type", "metric", "operator", "threshold", "severity", "for_minutes", "enabled"]
    list_filter = ["source_type", "severity", "enabled"]
    list_editable = ["threshold", "severity", "enabled"]


@admin.register(Silence, site=tenant_admin_site)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ["comment", "site_id", "source_id", "alert_type", "starts_at", "ends_at", "author"]


@admin.register(Channel, site=tenant_admin_site)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "min_severity", "repeat_interval_minutes", "enabled"]


@admin.register(Alert, site=tenant_admin_site)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["last_seen", "severity", "status", "site_label", "source_label", "type", "occurrences"]
    list_filter = ["status", "severity", "type"]
    search_fields = ["message", "source_label", "site_label"]
    readonly_fields = [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
