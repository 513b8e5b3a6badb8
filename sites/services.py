"""Writes to sites. A person's edit, from the portal, the API or the admin, is recorded in the
tenant's audit log; a site a device's report names is made without one, as its device is."""

from accounts.services import audited_delete, record_saved
from sites.models import Site


def site_save(*, site: Site, by, ip_address: str | None = None) -> Site:
    """Store a site a form or serializer filled (new or changed) and audit what changed."""
    before = Site.objects.filter(pk=site.pk).first() if site.pk else None
    site.save()
    record_saved(entity="site", instance=site, before=before, by=by, ip_address=ip_address)
    return site


def site_delete(*, site: Site, by, ip_address: str | None = None) -> None:
    """A site its assets still protect stays (ProtectedError)."""
    audited_delete(entity="site", instance=site, by=by, ip_address=ip_address)


def site_get_or_create(*, code: str, name: str, time_zone: str = "") -> tuple[Site, bool]:
    """The site with this code, made with this name when there is none yet (True then)."""
    return Site.objects.get_or_create(code=code, defaults={"name": name, "time_zone": time_zone})
