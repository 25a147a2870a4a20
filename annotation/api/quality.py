"""Agreement and gold accuracy for engineers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access import project_for
from ..selectors.quality import project_quality


class ProjectQualityApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        return Response(project_quality(project=project))
