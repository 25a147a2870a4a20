"""Evaluations over the API: per model version, per run (metrics + per-example rows), downloads, leaderboards."""

import csv
import io

import orjson
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from training.models import Artifact
from webapp.api_errors import ApiError, NotFound

from .human import human_win_rate_refresh
from .models import EvaluationRun, ExampleResult
from .selectors import arena_leaderboard, leaderboard

EXAMPLE_FIELDS = ["index", "category", "input", "output", "reference", "score", "correct", "metadata"]


def run_payload(run: EvaluationRun, *, with_config: bool = False) -> dict:
    body = {
        "id": run.pk,
        "model": run.model_id,
        "baseline": run.baseline_id,
        "suite": run.suite,
        "status": run.status,
        "job": run.job_id,
        "annotation_project": run.annotation_project_id,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "metrics": [
            {
                "name": m.name,
                "value": m.value,
                "ci_low": m.ci_low,
                "ci_high": m.ci_high,
                "n": m.n,
                "higher_is_better": m.higher_is_better,
                "metadata": m.metadata,
            }
            for m in run.metrics.all()
        ],
    }
    if with_config:
        body["config"] = run.config
    return body


def _run(run_id: int) -> EvaluationRun:
    run = EvaluationRun.objects.filter(pk=run_id).select_related("model", "baseline").first()
    if run is None:
        raise NotFound("No such evaluation.")
    if run.status == EvaluationRun.Status.WAITING:
        run = human_win_rate_refresh(run=run)
    return run


def _examples(run: EvaluationRun, params):
    qs = ExampleResult.objects.filter(run=run)
    if params.get("category"):
        qs = qs.filter(category=params["category"])
    if params.get("correct") in ("true", "false"):
        qs = qs.filter(correct=params["correct"] == "true")
    return qs.order_by("index")


class ModelEvaluationsApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, model_id: int):
        if not Artifact.objects.filter(pk=model_id, kind__in=["model", "adapter"]).exists():
            raise NotFound("No such model version.")
        runs = EvaluationRun.objects.filter(model_id=model_id).prefetch_related("metrics")
        return Response([run_payload(r) for r in runs])


class EvaluationDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int, required=False),
            OpenApiParameter("limit", int, required=False),
            OpenApiParameter("category", str, required=False),
            OpenApiParameter("correct", bool, required=False),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, evaluation_id: int):
        run = _run(evaluation_id)
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
            limit = min(1000, max(1, int(request.query_params.get("limit", 100))))
        except ValueError:
            raise ApiError("offset and limit must be integers.", code="invalid_page") from None
        qs = _examples(run, request.query_params)
        rows = list(qs.values(*EXAMPLE_FIELDS)[offset : offset + limit])
        return Response({**run_payload(run, with_config=True), "examples": rows, "examples_total": qs.count()})


class EvaluationExamplesDownloadApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["jsonl", "csv"])], responses=OpenApiTypes.BINARY)
    def get(self, request, evaluation_id: int):
        run = _run(evaluation_id)
        fmt = request.query_params.get("format", "jsonl")
        if fmt not in ("jsonl", "csv"):
            raise ApiError('format must be "jsonl" or "csv".', code="invalid_format")
        rows = _examples(run, request.query_params).values(*EXAMPLE_FIELDS).iterator(chunk_size=2000)
        stream = _csv(rows) if fmt == "csv" else (orjson.dumps(r) + b"\n" for r in rows)
        response = StreamingHttpResponse(stream, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="evaluation-{run.pk}-{run.suite}.{fmt}"'
        return response


def _csv(rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXAMPLE_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "metadata": orjson.dumps(row["metadata"]).decode()})
        if buf.tell() > 65536:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


class LeaderboardApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        board = leaderboard()
        rows = [{"model": r["model"].pk, "name": r["model"].name, "values": r["values"]} for r in board["rows"]]
        return Response({"columns": board["columns"], "rows": rows, "arena": arena_leaderboard()})
