"""OpenAPI component names for the house pattern of serializers nested in their view.

Every API view declares its own ``InputSerializer`` / ``OutputSerializer`` (DESIGN.md), so naming components by
class name alone makes them collide ("InputRequest" for every view, and a broken schema). A nested serializer is
named after its view instead: ``ProjectMemberAddApi.InputSerializer`` becomes ``ProjectMemberAddInput``.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        outer, _, name = cls.__qualname__.rpartition(".")
        if not outer or "<locals>" in outer:
            return super().get_serializer_name(serializer, direction)
        return outer.rsplit(".", 1)[-1].removesuffix("Api") + name
