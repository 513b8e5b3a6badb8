from django.contrib import admin
from django.db import transaction

from core.admin_sites import tenant_admin_site
from core.http import client_ip
from sites import services
from sites.models import Site


@admin.register(Site, site=tenant_admin_site)
class SiteAdmin(admin.ModelAdmin):
    """The company admin's view of its sites. Writes go through the services, so an edit made here
    is in the audit log as one made in the portal is."""

    list_display = ["name", "code", "time_zone"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        services.site_save(site=obj, by=request.user, ip_address=client_ip(request))

    def delete_model(self, request, obj):
        services.site_delete(site=obj, by=request.user, ip_address=client_ip(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # the admin's bulk delete, all or nothing as Django's own is
            for site in queryset:
                self.delete_model(request, site)
