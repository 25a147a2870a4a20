"""Input serializers that refuse unknown fields: a typo such as ``"overlapp"`` or ``"strenght"`` is a 400 that names
the field, never a value silently dropped (the import refuses unknown keys the same way)."""

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    def validate(self, attrs):
        data = self.initial_data
        unknown = sorted(set(data) - set(self.fields)) if hasattr(data, "keys") else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().validate(attrs)
