"""Streaming exports and dataset snapshots."""

from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api_errors import ApiError, Forbidden, NotFound

from ..access import can_manage, project_for, role_in
from ..export_formats import CONTENT_TYPES, stream_columns
from ..models import DatasetSnapshot
from ..selectors.export import PreferenceFilters, SftFilters, preference_batches, sft_batches
from ..services import snapshot_freeze
from .strict import StrictInputSerializer


def _float(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(f"{name} must be a number.", code="invalid_filter") from None


def _bool(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def preference_filters(params) -> PreferenceFilters:
    return PreferenceFilters(
        split=params.get("split") or None,
        style=params.get("style") or "standard",
        min_agreement=_float(params.get("min_agreement"), "min_agreement"),
        include_ties=_bool(params.get("include_ties")),
    )


def sft_filters(params) -> SftFilters:
    return SftFilters(
        split=params.get("split") or None,
        style=params.get("style") or "conversational",
        include_pending=_bool(params.get("include_pending")),
    )


def _export_format(params) -> str:
    fmt = params.get("format") or "jsonl"
    if fmt not in CONTENT_TYPES:
        raise ApiError('format must be "jsonl" or "parquet".', code="invalid_format")
    return fmt


def _streaming(batches, fmt: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream_columns(batches, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["X-Accel-Buffering"] = "no"
    return response


COMMON = [
    OpenApiParameter("format", str, enum=["jsonl", "parquet"], default="jsonl"),
    OpenApiParameter("split", str, enum=["train", "validation", "test"], required=False),
]


class ExportPreferencesApi(APIView):
    @extend_schema(
        parameters=[
            *COMMON,
            OpenApiParameter("style", str, enum=["standard", "conversational"], default="standard"),
            OpenApiParameter("min_agreement", float, required=False),
            OpenApiParameter("include_ties", bool, required=False),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        fmt = _export_format(request.query_params)
        batches = preference_batches(project=project, filters=preference_filters(request.query_params))
        return _streaming(batches, fmt, f"preferences-{project.pk}")


class ExportSftApi(APIView):
    @extend_schema(
        parameters=[
            *COMMON,
            OpenApiParameter("style", str, enum=["conversational", "standard"], default="conversational"),
            OpenApiParameter("include_pending", bool, required=False),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        fmt = _export_format(request.query_params)
        batches = sft_batches(project=project, filters=sft_filters(request.query_params))
        return _streaming(batches, fmt, f"sft-{project.pk}")


class SnapshotOutputSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DatasetSnapshot
        fields = [
            "id",
            "project",
            "kind",
            "filters",
            "row_count",
            "sha256",
            "size_bytes",
            "manifest",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, obj: DatasetSnapshot) -> str:
        url = reverse("annotation-api:snapshot-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class SnapshotFreezeApi(APIView):
    class InputSerializer(StrictInputSerializer):
        kind = serializers.ChoiceField(["preferences", "sft"], default="preferences")
        split = serializers.ChoiceField(["train", "validation", "test"], required=False, allow_null=True)
        style = serializers.ChoiceField(["standard", "conversational"], required=False)
        min_agreement = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
        include_ties = serializers.BooleanField(required=False, default=False)
        include_pending = serializers.BooleanField(required=False, default=False)

    @extend_schema(responses=SnapshotOutputSerializer(many=True))
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        snapshots = DatasetSnapshot.objects.filter(project=project)
        return Response(SnapshotOutputSerializer(snapshots, many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={201: SnapshotOutputSerializer, 200: SnapshotOutputSerializer})
    def post(self, request, project_id: int):
        project = project_for(request.user, project_id, need="manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v["kind"] == "preferences":
            filters = PreferenceFilters(
                split=v.get("split"),
                style=v.get("style") or "standard",
                min_agreement=v.get("min_agreement"),
                include_ties=v["include_ties"],
            )
        else:
            filters = SftFilters(
                split=v.get("split"), style=v.get("style") or "conversational", include_pending=v["include_pending"]
            )
        snapshot, created = snapshot_freeze(project=project, kind=v["kind"], filters=filters, created_by=request.user)
        body = SnapshotOutputSerializer(snapshot, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _snapshot_for(user, snapshot_id: int) -> DatasetSnapshot:
    """Like project_for: missing to non-members (404), forbidden to members whose role cannot export (403)."""
    snapshot = DatasetSnapshot.objects.select_related("project").filter(pk=snapshot_id).first()
    if snapshot is None or role_in(user, snapshot.project) is None:
        raise NotFound("No such snapshot.")
    if not can_manage(user, snapshot.project):
        raise Forbidden("Your role in this project does not allow this (needs manage).", code="role")
    return snapshot


class SnapshotDetailApi(APIView):
    @extend_schema(responses=SnapshotOutputSerializer)
    def get(self, request, snapshot_id: int):
        snapshot = _snapshot_for(request.user, snapshot_id)
        return Response(SnapshotOutputSerializer(snapshot, context={"request": request}).data)


class SnapshotDownloadApi(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY})
    def get(self, request, snapshot_id: int):
        snapshot = _snapshot_for(request.user, snapshot_id)
        path = snapshot.absolute_path
        if not path.exists():
            raise NotFound("The snapshot's rows file is missing from ARTIFACTS_ROOT.", code="file_missing")
        response = FileResponse(
            path.open("rb"),
            content_type=CONTENT_TYPES["jsonl"],
            as_attachment=True,
            filename=f"{snapshot.kind}-{snapshot.pk}-{snapshot.sha256[:12]}.jsonl",
        )
        response["ETag"] = f'"{snapshot.sha256}"'
        return response
