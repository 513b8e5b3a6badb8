from django.contrib import admin

from core.admin_sites import tenant_admin_site
from fleet.models import Device


@admin.register(Device, site=tenant_admin_site)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "site", "status", "is_new", "last_seen", "agent_version"]
    list_filter = ["status", "is_new", "site"]
    search_fields = ["external_id", "name"]
    readonly_fields = ["status", "last_seen", "last_metrics_at", "agent_version", "latest", "registered_at"]
