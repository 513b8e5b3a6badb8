from django.contrib import admin

from core.admin_sites import tenant_admin_site
from sites.models import Site


@admin.register(Site, site=tenant_admin_site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "time_zone"]
    search_fields = ["name", "code"]
