from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from core.navigation import SECTION_BY_SLUG
from fleet import selectors, services
from fleet.models import Device, DeviceStatus

SECTION = SECTION_BY_SLUG["fleet"]


@login_required
def overview(request):
    status = request.GET.get("status", "")
    devices = selectors.sites_list(
        status=status if status in DeviceStatus.values else "", search=request.GET.get("search", "")
    )
    context = {
        "section": SECTION,
        "devices": devices,
        "stats": selectors.stats(),
        "status": status,
        "statuses": DeviceStatus.choices,
        "search": request.GET.get("search", ""),
    }
    template = "fleet/_devices.html" if request.headers.get("HX-Request") else "fleet/overview.html"
    return render(request, template, context)


@login_required
def device_detail(request, site_id: str):
    device = get_object_or_404(Device.objects.select_related("site"), external_id=site_id)
    detail = selectors.site_detail(device)
    recent = device.snapshots.order_by("-time")[:12]
    template = "fleet/_device_live.html" if request.headers.get("HX-Request") else "fleet/device.html"
    return render(
        request,
        template,
        {
            "section": SECTION,
            "device": device,
            "detail": detail,
            "recent": recent,
            "new_key": request.session.pop("new_device_key", None),
        },
    )


@role_required("admin")
@require_POST
def device_key(request, site_id: str):
    device = get_object_or_404(Device, external_id=site_id)
    request.session["new_device_key"] = services.issue_device_key(device=device, by=request.user)
    messages.success(request, _("A new key was issued; the device's previous key no longer works."))
    return redirect("fleet:device", site_id=site_id)


@role_required("admin", "operator")
@require_POST
def device_reviewed(request, site_id: str):
    Device.objects.filter(external_id=site_id).update(is_new=False)
    return redirect("fleet:device", site_id=site_id)
