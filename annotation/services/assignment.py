"""Serving tasks: exact overlap under concurrency, leases that expire, skips remembered, O(log n) per request.

How a task is served to annotator U (see models/tasks.py for the invariants):
1. U's unexpired active lease in this project and kind is returned again (a reload resumes work).
2. With probability ``gold_ratio`` a gold task U has not seen (gold tasks take no overlap slot).
3. Forward: the first open task after U's cursor in ``order_key`` order. Every task U ever touched lies at or
   before the cursor, so no exclusion is needed and the query is one index seek, whatever the project's size.
4. Backward, only once forward is exhausted: open tasks behind the cursor U has no assignment for (tasks that
   reopened after a lease expired or a skip, or that were locked by a concurrent request when U passed them).
A slot is taken by a guarded ``UPDATE ... WHERE assigned_count < overlap``: the database decides, not Python.
"""

import random
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from ..models import AnnotatorCursor, Assignment, Project, Task, TaskState

_rng = random.SystemRandom()


def _locking(qs):
    """Row locks where the database has them; SQLite serializes writers (IMMEDIATE transactions) instead."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def take_slot(task_id: int, overlap: int) -> bool:
    """Atomically take one of the task's ``overlap`` slots; False when it is full."""
    new_count = F("assigned_count") + 1
    return bool(
        Task.objects.filter(pk=task_id, assigned_count__lt=overlap).update(
            assigned_count=new_count,
            state=Case(
                When(assigned_count__gte=overlap - 1, then=Value(TaskState.FULL)),
                default=Value(TaskState.OPEN),
            ),
        )
    )


def release_slot(task_id: int, overlap: int) -> None:
    """Give one slot back. The state follows the counts: a task whose overlap was lowered below its judgments
    stays done (or full), so it never sits in the open pool with no slot to take."""
    Task.objects.filter(pk=task_id).update(
        assigned_count=F("assigned_count") - 1,
        state=Case(
            When(completed_count__gte=overlap, then=Value(TaskState.DONE)),
            When(assigned_count__gt=overlap, then=Value(TaskState.FULL)),
            default=Value(TaskState.OPEN),
        ),
    )


def _overlap(assignment: Assignment) -> int:
    return (
        Project.objects.only("overlap", "demonstration_overlap")
        .get(pk=assignment.project_id_cache)
        .overlap_for(assignment.kind)
    )


def _new_assignment(task: Task, project: Project, annotator: AbstractBaseUser) -> Assignment:
    order = list(task.response_ids)
    _rng.shuffle(order)
    return Assignment.objects.create(
        task=task,
        annotator=annotator,
        project_id_cache=project.pk,
        kind=task.kind,
        is_gold=task.is_gold,
        display_order=order,
        expires_at=timezone.now() + timedelta(seconds=project.lease_duration),
    )


def _serve_gold(project: Project, annotator: AbstractBaseUser, kind: str) -> Assignment | None:
    seen = Assignment.objects.filter(task=OuterRef("pk"), annotator=annotator)
    task = (
        Task.objects.filter(project=project, kind=kind, is_gold__in=[True])
        .exclude(Exists(seen))
        .order_by("order_key")
        .first()
    )
    if task is None:
        return None
    Task.objects.filter(pk=task.pk).update(assigned_count=F("assigned_count") + 1)
    return _new_assignment(task, project, annotator)


def _serve_forward(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    overlap = project.overlap_for(kind)
    # ``is_gold__in=[False]``, not ``is_gold=False``: the latter compiles to ``NOT is_gold``, which SQLite cannot
    # match against the task_serving index, so it sorted every task of the project per request (O(n)); an IN of one
    # value is an equality it seeks on. PostgreSQL plans both alike.
    base = Task.objects.select_related("prompt").filter(
        project=project, kind=kind, is_gold__in=[False], state=TaskState.OPEN
    )
    while True:
        task = _locking(base.filter(order_key__gt=cursor.position).order_by("order_key")).first()
        if task is None:
            return None
        cursor.position = task.order_key
        if take_slot(task.pk, overlap):
            return _new_assignment(task, project, annotator)


def _serve_backward(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    overlap = project.overlap_for(kind)
    seen = Assignment.objects.filter(task=OuterRef("pk"), annotator=annotator)
    base = Task.objects.filter(
        project=project, kind=kind, is_gold__in=[False], state=TaskState.OPEN, order_key__lte=cursor.position
    ).exclude(Exists(seen))
    tried: list[int] = []
    for _ in range(50):
        task = _locking(base.exclude(pk__in=tried).order_by("order_key")).first()
        if task is None:
            return None
        if take_slot(task.pk, overlap):
            return _new_assignment(task, project, annotator)
        tried.append(task.pk)
    return None


def task_assign_next(*, project: Project, annotator: AbstractBaseUser, kind: str) -> Assignment | None:
    """The annotator's next task (a lease), or None when nothing is left for them."""
    if kind not in project.task_kinds:
        raise Forbidden(f"This project has no {kind} tasks.", code="kind_disabled")
    leases_expire(limit=200)
    with transaction.atomic():
        # Serializes one annotator's concurrent requests, so nobody ever holds two leases of one kind. One query:
        # a locking get (or an insert, which holds the new row's lock the same way).
        cursor, _ = AnnotatorCursor.objects.select_for_update().get_or_create(
            project=project, annotator=annotator, kind=kind
        )
        active = (
            Assignment.objects.filter(
                annotator=annotator, project_id_cache=project.pk, kind=kind, status=Assignment.Status.ACTIVE
            )
            .select_related("task__prompt")  # the payload shows the prompt: no second query for it
            .order_by("-id")
            .first()
        )
        if active is not None and active.expires_at > timezone.now():
            return active
        assignment = None
        if project.gold_ratio > 0 and _rng.random() < project.gold_ratio:
            assignment = _serve_gold(project, annotator, kind)
        if assignment is None:
            assignment = _serve_forward(project, annotator, kind, cursor)
        if assignment is None:
            assignment = _serve_backward(project, annotator, kind, cursor)
        if assignment is None and project.gold_ratio > 0:
            assignment = _serve_gold(project, annotator, kind)
        cursor.save(update_fields=["position"])
        return assignment


def leases_expire(*, limit: int = 1000) -> int:
    """Return expired leases' slots to their tasks. Cheap when nothing expired (one index probe)."""
    now = timezone.now()
    due = list(
        Assignment.objects.filter(status=Assignment.Status.ACTIVE, expires_at__lt=now).values_list("pk", flat=True)[
            :limit
        ]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update()
                .filter(pk=pk, status=Assignment.Status.ACTIVE, expires_at__lt=now)
                .first()
            )
            if assignment is None:
                continue
            assignment.status = Assignment.Status.EXPIRED
            assignment.finished_at = now
            assignment.save(update_fields=["status", "finished_at"])
            release_slot(assignment.task_id, _overlap(assignment))
            expired += 1
    return expired


@transaction.atomic
def task_skip(*, task_id: int, annotator: AbstractBaseUser) -> Assignment:
    """Give the task back; it is remembered so this annotator is not served it again."""
    task_id_check(task_id)
    assignment = Assignment.objects.select_for_update().filter(task_id=task_id, annotator=annotator).first()
    if assignment is None:
        member = Task.objects.filter(pk=task_id, project__memberships__user=annotator).exists()
        if not member and not annotator.is_staff:
            raise NotFound("No such task.")
        raise Forbidden("This task is not assigned to you.", code="not_assigned")
    if assignment.status != Assignment.Status.ACTIVE:
        raise Conflict(f"This task is already {assignment.status}.", code=f"already_{assignment.status}")
    assignment.status = Assignment.Status.SKIPPED
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["status", "finished_at"])
    release_slot(task_id, _overlap(assignment))
    return assignment


MAX_ID = 2**63 - 1


def task_id_check(task_id: object) -> None:
    """An id outside the 64-bit range names no task (and SQLite raises OverflowError on it in a foreign-key lookup)."""
    if isinstance(task_id, bool) or not isinstance(task_id, int) or not 0 < task_id <= MAX_ID:
        raise NotFound("No such task.")


MAX_IDEMPOTENCY_KEY = 128  # the idempotency_key column's max_length
MAX_TIME_SPENT_MS = 2**31 - 1  # what a PositiveIntegerField holds on every database


def submit_fields_check(*, idempotency_key: str | None, time_spent_ms: object) -> None:
    """Reject values the database would refuse (or silently keep on SQLite only) before anything is written."""
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or len(idempotency_key) > MAX_IDEMPOTENCY_KEY
    ):
        raise ApiError(f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters.", code="invalid_key")
    if time_spent_ms is not None and (
        isinstance(time_spent_ms, bool)
        or not isinstance(time_spent_ms, int)
        or not 0 <= time_spent_ms <= MAX_TIME_SPENT_MS
    ):
        raise ApiError(f"time_spent_ms must be an integer from 0 to {MAX_TIME_SPENT_MS}.", code="invalid_time")


def lease_check_submittable(assignment: Assignment, project: Project) -> None:
    """A submit on an expired lease still counts if a slot is free; otherwise the task went to someone else."""
    status = assignment.status
    if status == Assignment.Status.SUBMITTED:
        raise Conflict("You already submitted this task.", code="already_submitted")
    if status == Assignment.Status.SKIPPED:
        raise Conflict("You skipped this task.", code="skipped")
    if status == Assignment.Status.EXPIRED:
        if not assignment.is_gold and not take_slot(assignment.task_id, project.overlap_for(assignment.kind)):
            raise Conflict("Your lease expired and the task went to someone else.", code="lease_expired")
        if assignment.is_gold:
            Task.objects.filter(pk=assignment.task_id).update(assigned_count=F("assigned_count") + 1)


def assignment_finish(assignment: Assignment, project: Project) -> None:
    assignment.status = Assignment.Status.SUBMITTED
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["status", "finished_at"])
    if assignment.is_gold:
        Task.objects.filter(pk=assignment.task_id).update(completed_count=F("completed_count") + 1)
        return
    overlap = project.overlap_for(assignment.kind)
    Task.objects.filter(pk=assignment.task_id).update(
        completed_count=F("completed_count") + 1,
        state=Case(
            When(completed_count__gte=overlap - 1, then=Value(TaskState.DONE)),
            When(assigned_count__gte=overlap, then=Value(TaskState.FULL)),
            default=Value(TaskState.OPEN),
        ),
    )
