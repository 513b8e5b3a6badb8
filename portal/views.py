from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.selectors import tenant_overview_counts
from core.navigation import SECTION_BY_SLUG, SECTIONS


@login_required
def overview(request):
    return render(
        request,
        "portal/overview.html",
        {"section": SECTION_BY_SLUG["overview"], "counts": tenant_overview_counts(), "sections": SECTIONS[1:-1]},
    )


@login_required
def section(request, slug: str):
    """Sections whose features are not delivered yet say so plainly, in the portal's layout."""
    return render(request, "portal/section_pending.html", {"section": SECTION_BY_SLUG[slug]})
