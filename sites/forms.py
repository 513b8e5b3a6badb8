"""The portal's form of a site, for the pages of the verticals that list and edit sites."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sites.models import Site
from tenants.models import TIMEZONE_CHOICES


class SiteForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("time zone"),
        required=False,
        choices=[("", _("The company's time zone")), *TIMEZONE_CHOICES],
    )

    class Meta:
        model = Site
        fields = ["name", "code", "time_zone", "address", "latitude", "longitude"]
