"""Serving tasks and taking judgments, demonstrations, skips and reviews."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api_errors import ApiError

from ..access import project_for
from ..selectors.tasks import demonstrations_for_review, task_payload
from ..services import demonstration_review, demonstration_submit, judgment_submit, task_assign_next, task_skip
from .strict import StrictInputSerializer

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False, description="A retried submit never counts twice."
)

TaskSerializer = inline_serializer(
    "Task",
    {
        "id": serializers.IntegerField(),
        "kind": serializers.CharField(),
        "project": serializers.IntegerField(),
        "prompt": serializers.CharField(required=False),
        "messages": serializers.ListField(child=serializers.DictField(), required=False),
        "responses": serializers.ListField(child=serializers.DictField()),
        "expires_at": serializers.DateTimeField(),
    },
)


class TaskNextApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["comparison", "demonstration"], default="comparison"),
            OpenApiParameter("render", str, enum=["html"], required=False, description="Add sanitized HTML fields."),
        ],
        responses={200: TaskSerializer, 204: None},
    )
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id)
        kind = request.query_params.get("kind", "comparison")
        if kind not in ("comparison", "demonstration"):
            raise ApiError('kind must be "comparison" or "demonstration".', code="invalid_kind")
        assignment = task_assign_next(project=project, annotator=request.user, kind=kind)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(task_payload(assignment, html=request.query_params.get("render") == "html"))


class TaskJudgmentCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        ranking = serializers.JSONField(required=False, help_text="Response ids best first; [a, [b, c]] ties b, c.")
        choice = serializers.JSONField(required=False, help_text='Pairwise: the better response id, or "tie".')
        strength = serializers.ChoiceField(["slight", "clear", "strong"], required=False, allow_blank=True)
        criteria = serializers.JSONField(required=False)
        rationale = serializers.CharField(required=False, allow_blank=True, max_length=20000)
        flags = serializers.ListField(child=serializers.CharField(), required=False)
        time_spent_ms = serializers.IntegerField(required=False, min_value=0, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        task = serializers.IntegerField(source="task_id")
        ranking = serializers.JSONField()
        strength = serializers.CharField()
        criteria = serializers.JSONField()
        rationale = serializers.CharField()
        flags = serializers.JSONField()
        display_order = serializers.JSONField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        judgment, created = judgment_submit(
            task_id=task_id,
            annotator=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            **data.validated_data,
        )
        return Response(judgment_data(judgment), status=201 if created else 200)


_created_at = serializers.DateTimeField()  # stateless: formats like the OutputSerializer's field


def judgment_data(judgment) -> dict:
    """``TaskJudgmentCreateApi.OutputSerializer(judgment).data`` (the documented shape), built directly: a
    serializer instance deep-copies its fields on every request, and this answer is sent for every click."""
    return {
        "id": judgment.pk,
        "task": judgment.task_id,
        "ranking": judgment.ranking,
        "strength": str(judgment.strength),
        "criteria": judgment.criteria,
        "rationale": str(judgment.rationale),
        "flags": judgment.flags,
        "display_order": judgment.display_order,
        "created_at": _created_at.to_representation(judgment.created_at),
    }


class TaskDemonstrationCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        text = serializers.CharField(max_length=200_000)
        source_response_id = serializers.IntegerField(required=False, allow_null=True)
        time_spent_ms = serializers.IntegerField(required=False, min_value=0, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        task = serializers.IntegerField(source="task_id")
        text = serializers.CharField()
        source_response_id = serializers.IntegerField(allow_null=True)
        original_text = serializers.CharField()
        review_status = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        demonstration, created = demonstration_submit(
            task_id=task_id,
            annotator=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            **data.validated_data,
        )
        return Response(self.OutputSerializer(demonstration).data, status=201 if created else 200)


class TaskSkipApi(APIView):
    @extend_schema(request=None, responses={200: inline_serializer("Skipped", {"status": serializers.CharField()})})
    def post(self, request, task_id: int):
        assignment = task_skip(task_id=task_id, annotator=request.user)
        return Response({"status": assignment.status})


class DemonstrationReviewListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["pending", "accepted", "rejected"])],
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    def get(self, request, project_id: int):
        project = project_for(request.user, project_id, need="review")
        review_status = request.query_params.get("status", "pending")
        if review_status not in ("pending", "accepted", "rejected"):
            raise ApiError('status must be "pending", "accepted" or "rejected".', code="invalid_status")
        return Response(demonstrations_for_review(project=project, status=review_status, reviewer=request.user))


class DemonstrationReviewApi(APIView):
    class InputSerializer(StrictInputSerializer):
        decision = serializers.ChoiceField(["accepted", "rejected"])
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)

    @extend_schema(request=InputSerializer, responses={200: TaskDemonstrationCreateApi.OutputSerializer})
    def post(self, request, demonstration_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        demonstration = demonstration_review(
            demonstration_id=demonstration_id, reviewer=request.user, **data.validated_data
        )
        return Response(TaskDemonstrationCreateApi.OutputSerializer(demonstration).data)
