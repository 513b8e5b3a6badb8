"""The base of the APIs' model serializers: model fields mapped to the API's own field types."""

from django.db import models
from rest_framework import serializers

from core.api.fields import DateTimeField


class ModelSerializer(serializers.ModelSerializer):
    """Date-times in UTC and within the API's range, on every model serializer alike."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }
