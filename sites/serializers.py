"""A site as the APIs show and take it."""

from core.api.serializers import ModelSerializer
from sites.models import Site


class SiteSerializer(ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "code", "time_zone", "address", "latitude", "longitude"]
