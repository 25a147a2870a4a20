"""Projects, members, import, stats."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FileUploadParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api_errors import ApiError, Forbidden

from ..access import project_for
from ..models import Membership, Project
from ..selectors.projects import projects_for
from ..selectors.stats import project_stats
from ..services import membership_set, project_create, prompts_import
from ..services.imports import bounded_lines
from ..services.projects import EDITABLE_FIELDS, MAX_LEASE_SECONDS
from .strict import StrictInputSerializer


class ProjectOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", *EDITABLE_FIELDS, "created_at"]


class ProjectListCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200)
        overlap = serializers.IntegerField(min_value=1, max_value=50, required=False)
        responses_per_comparison = serializers.IntegerField(min_value=2, max_value=9, required=False)
        guidelines = serializers.CharField(required=False, allow_blank=True)
        task_kinds = serializers.ListField(
            child=serializers.ChoiceField(["comparison", "demonstration"]), required=False, min_length=1
        )
        demonstration_overlap = serializers.IntegerField(min_value=1, max_value=50, required=False)
        criteria = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
        criteria_mode = serializers.ChoiceField(["preference", "rating"], required=False)
        ties_allowed = serializers.BooleanField(required=False)
        gold_ratio = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
        split_ratios = serializers.DictField(child=serializers.FloatField(min_value=0.0), required=False)
        lease_seconds = serializers.IntegerField(
            min_value=30, max_value=MAX_LEASE_SECONDS, required=False, allow_null=True
        )

    @extend_schema(responses=ProjectOutputSerializer(many=True))
    def get(self, request):
        return Response(ProjectOutputSerializer(projects_for(request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request):
        if not request.user.is_staff:
            raise Forbidden("Only engineers (staff) create projects.", code="role")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(created_by=request.user, **data.validated_data)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectOutputSerializer)
    def get(self, request, project_id: int):
        return Response(ProjectOutputSerializer(project_for(request.user, project_id)).data)


class ProjectMemberAddApi(APIView):
    class InputSerializer(StrictInputSerializer):
        username = serializers.CharField()
        role = serializers.ChoiceField(["annotator", "reviewer", "engineer"], default="annotator")

    class OutputSerializer(serializers.ModelSerializer):
        username = serializers.CharField(source="user.username")

        class Meta:
            model = Membership
            fields = ["username", "role", "created_at"]

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_set(project=project, **data.validated_data)
        return Response(self.OutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class ProjectImportApi(APIView):
    """JSONL in the request body (any content type) or as the ``file`` field of a multipart upload."""

    parser_classes = [MultiPartParser, FileUploadParser, JSONParser]

    @extend_schema(
        request={
            "application/x-ndjson": {"type": "string", "format": "binary"},
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={
            201: inline_serializer(
                "ImportSummary",
                {
                    "lines": serializers.IntegerField(),
                    "prompts_created": serializers.IntegerField(),
                    "prompts_merged": serializers.IntegerField(),
                    "responses_created": serializers.IntegerField(),
                    "tasks_created": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        if request.content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ApiError('Upload the JSONL as the "file" field.', code="missing_file")
            source = upload
        else:
            source = request._request
        summary = prompts_import(project=project, lines=bounded_lines(source))
        return Response(summary.as_dict(), status=status.HTTP_201_CREATED)


class ProjectStatsApi(APIView):
    @extend_schema(
        responses=inline_serializer("ProjectStats", {"prompts": serializers.IntegerField()}),
        parameters=[OpenApiParameter("project_id", int, OpenApiParameter.PATH)],
    )
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="review")
        return Response(project_stats(project=project))
