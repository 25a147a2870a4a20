"""Jobs over the API: launch, read, cancel, retry, clone, metrics; kinds and their config schemas."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api_errors import NotFound

from .models import Artifact, Job
from .runners import KINDS
from .selectors.jobs import (
    artifact_lineage,
    artifact_payload,
    job_kinds_catalog,
    job_metric_series,
    job_payload,
    jobs_list,
)
from .services import job_cancel, job_clone, job_launch, job_retry


class StaffApi(APIView):
    """Jobs and artifacts are the engineers' (staff) business."""

    permission_classes = [IsAdminUser]


def _job(job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such job.")
    return job


class JobListCreateApi(StaffApi):
    class InputSerializer(serializers.Serializer):
        # Validated by job_launch against the live registry (apps and deployments add kinds at start-up).
        kind = serializers.CharField(max_length=32, help_text="A job kind: see GET /api/v1/jobs/kinds/.")
        config = serializers.JSONField(required=False, default=dict, help_text="See GET /api/v1/jobs/kinds/.")
        name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        queue = serializers.ChoiceField(Job.Queue.values, required=False)
        resources = serializers.JSONField(required=False, default=dict)

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=sorted(KINDS), required=False),
            OpenApiParameter("status", str, required=False),
            OpenApiParameter("queue", str, required=False),
        ],
        responses=OpenApiTypes.OBJECT,
        operation_id="v1_jobs_list",
    )
    def get(self, request):
        p = request.query_params
        jobs = jobs_list(kind=p.get("kind"), status=p.get("status"), queue=p.get("queue"))[:200]
        return Response([job_payload(j) for j in jobs])

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_launch(created_by=request.user, **data.validated_data)
        return Response(job_payload(job), status=status.HTTP_201_CREATED)


class JobKindsApi(StaffApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(job_kinds_catalog())


class JobDetailApi(StaffApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, job_id: int):
        return Response(job_payload(_job(job_id)))


class JobCancelApi(StaffApi):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, job_id: int):
        return Response(job_payload(job_cancel(job=_job(job_id))))


class JobRetryApi(StaffApi):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, job_id: int):
        return Response(job_payload(job_retry(job=_job(job_id))))


class JobCloneApi(StaffApi):
    class InputSerializer(serializers.Serializer):
        config = serializers.JSONField(required=False, default=None)

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, job_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_clone(job=_job(job_id), created_by=request.user, config=data.validated_data.get("config"))
        return Response(job_payload(job), status=status.HTTP_201_CREATED)


class JobMetricsApi(StaffApi):
    @extend_schema(
        parameters=[OpenApiParameter("since", int, required=False), OpenApiParameter("name", str, many=True)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, job_id: int):
        try:
            since = int(request.query_params.get("since") or 0)
        except ValueError:
            since = 0
        names = request.query_params.getlist("name") or None
        return Response(job_metric_series(job=_job(job_id), since_id=since, names=names))


class ArtifactDetailApi(StaffApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, artifact_id: int):
        artifact = Artifact.objects.filter(pk=artifact_id).first()
        if artifact is None:
            raise NotFound("No such artifact.")
        return Response({**artifact_payload(artifact), "lineage": artifact_lineage(artifact)})
