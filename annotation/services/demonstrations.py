"""Demonstrations (ideal replies written from scratch or by editing a response) and their review."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from ..access import can_review, role_in
from ..models import Assignment, Demonstration, Response, TaskKind
from .assignment import assignment_finish, lease_check_submittable, submit_fields_check, task_id_check
from .submissions import no_lease, replay


def _replay(annotator: AbstractBaseUser, key: str | None, task_id: int) -> Demonstration | None:
    return replay(Demonstration, annotator=annotator, key=key, task_id=task_id)


def demonstration_submit(
    *,
    task_id: int,
    annotator: AbstractBaseUser,
    text: str,
    source_response_id: int | None = None,
    time_spent_ms: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Demonstration, bool]:
    task_id_check(task_id)
    submit_fields_check(idempotency_key=idempotency_key, time_spent_ms=time_spent_ms)
    try:
        return _submit(task_id, annotator, text, source_response_id, time_spent_ms, idempotency_key)
    except IntegrityError:
        existing = _replay(annotator, idempotency_key, task_id)
        if existing is None:
            raise Conflict("This demonstration was already submitted.", code="already_submitted") from None
        return existing, False


@transaction.atomic
def _submit(task_id, annotator, text, source_response_id, time_spent_ms, idempotency_key):
    existing = _replay(annotator, idempotency_key, task_id)
    if existing is not None:
        return existing, False
    assignment = (
        Assignment.objects.select_for_update(of=("self",))  # the lease only: never serialize the whole project
        .select_related("task__project")
        .filter(task_id=task_id, annotator=annotator)
        .first()
    )
    if assignment is None:
        no_lease(task_id=task_id, annotator=annotator)
    existing = _replay(annotator, idempotency_key, task_id)
    if existing is not None:
        return existing, False
    task, project = assignment.task, assignment.task.project
    if task.kind != TaskKind.DEMONSTRATION:
        raise ApiError("This is a comparison task; submit a judgment.", code="wrong_kind")
    if not isinstance(text, str) or not text.strip():
        raise ApiError("text must be a non-empty string.", code="invalid_text")
    lease_check_submittable(assignment, project)
    original = ""
    if source_response_id is not None:
        source = Response.objects.filter(pk=source_response_id, prompt_id=task.prompt_id).first()
        if source is None:
            raise ApiError("source_response_id must be a response of this task's prompt.", code="invalid_source")
        original = source.text
    demonstration = Demonstration.objects.create(
        task=task,
        assignment=assignment,
        annotator=annotator,
        text=text,
        source_response_id=source_response_id,
        original_text=original,
        time_spent_ms=time_spent_ms,
        idempotency_key=idempotency_key or None,
    )
    assignment_finish(assignment, project)
    return demonstration, True


@transaction.atomic
def demonstration_review(
    *, demonstration_id: int, reviewer: AbstractBaseUser, decision: str, comment: str = ""
) -> Demonstration:
    demonstration = (
        Demonstration.objects.select_for_update().select_related("task__project").filter(pk=demonstration_id).first()
    )
    if demonstration is None or role_in(reviewer, demonstration.task.project) is None:
        raise NotFound("No such demonstration.")
    if not can_review(reviewer, demonstration.task.project):
        raise Forbidden("Your role in this project does not allow this (needs review).", code="role")
    if decision not in (Demonstration.Review.ACCEPTED, Demonstration.Review.REJECTED):
        raise ApiError('decision must be "accepted" or "rejected".', code="invalid_decision")
    if decision == Demonstration.Review.REJECTED and not comment.strip():
        raise ApiError("Say why in a comment when rejecting.", code="comment_required")
    if demonstration.annotator_id == reviewer.pk and not reviewer.is_staff:
        raise Forbidden("You cannot review your own demonstration.", code="own_work")
    demonstration.review_status = decision
    demonstration.reviewer = reviewer
    demonstration.review_comment = comment
    demonstration.reviewed_at = timezone.now()
    demonstration.save(update_fields=["review_status", "reviewer", "review_comment", "reviewed_at"])
    return demonstration
