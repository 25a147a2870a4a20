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

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from webapp import fastsql
from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from ..models import AnnotatorCursor, Assignment, Project, Prompt, Task, TaskState
from . import serving_sql

_rng = random.SystemRandom()


def _locking(qs):
    """Row locks where the database has them; SQLite serializes writers (IMMEDIATE transactions) instead."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def take_slot(task_id: int, overlap: int) -> bool:
    """Atomically take one of the task's ``overlap`` slots; False when it is full.

    One guarded UPDATE: the database decides, not Python (the CASE sees the row's count before the increment).
    """
    sql = serving_sql.serving(connection.vendor)["take_slot"]
    return fastsql.execute(sql, [overlap - 1, TaskState.FULL, TaskState.OPEN, task_id, overlap]) == 1


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
    now = timezone.now()
    values = {
        "task_id": task.pk,
        "annotator_id": annotator.pk,
        "project_id_cache": project.pk,
        "kind": task.kind,
        "status": Assignment.Status.ACTIVE,
        "is_gold": task.is_gold,
        "display_order": order,
        "expires_at": now + timedelta(seconds=project.lease_duration),
        "created_at": now,
    }
    assignment = fastsql.create(Assignment, values)
    assignment.task = task
    return assignment


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


def _task_with_prompt(row: tuple) -> Task:
    """The task and its prompt from a row that starts with ``select_list(Task)``, ``select_list(Prompt)``."""
    t, p = fastsql.width(Task), fastsql.width(Prompt)
    task = fastsql.instance(Task, row[:t])
    task.prompt = fastsql.instance(Prompt, row[t : t + p])
    return task


def _serve_forward(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    # ``is_gold IN (false)``, not ``NOT is_gold``: SQLite cannot match the latter against the task_serving index, so
    # it sorted every task of the project per request (O(n)); an IN of one value is an equality it seeks on.
    if connection.vendor == "postgresql":
        return _serve_forward_one_statement(project, annotator, kind, cursor)
    overlap = project.overlap_for(kind)
    sql = serving_sql.serving(connection.vendor)["forward"]
    while True:
        row = fastsql.fetchone(sql, [project.pk, kind, False, TaskState.OPEN, cursor.position])
        if row is None:
            return None
        task = _task_with_prompt(row)
        cursor.position = task.order_key
        if take_slot(task.pk, overlap):  # (the cursor is saved at the end, once)
            return _new_assignment(task, project, annotator)


def _serve_forward_one_statement(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    """PostgreSQL: lock, take a slot, insert the lease and move the cursor in one statement (``forward_take``)."""
    overlap = project.overlap_for(kind)
    sql = serving_sql.serving("postgresql")["forward_take"]
    now = timezone.now()
    lease_values = [annotator.pk, project.pk, kind, Assignment.Status.ACTIVE]
    lease_values += [fastsql.prep(Assignment, "expires_at", now + timedelta(seconds=project.lease_duration))]
    lease_values += [fastsql.prep(Assignment, "created_at", now)]
    t, p, a = fastsql.width(Task), fastsql.width(Prompt), fastsql.width(Assignment)
    slot = [overlap - 1, TaskState.FULL, TaskState.OPEN, overlap]
    while True:
        row = fastsql.fetchone(
            sql, [project.pk, kind, False, TaskState.OPEN, cursor.position, *slot, *lease_values, cursor.pk]
        )
        if row is None:
            return None
        task = _task_with_prompt(row)
        cursor.position = cursor.saved_position = task.order_key  # the statement moved it
        if row[t + p] is not None:  # the slot was taken (else the task filled up meanwhile: on to the next one)
            assignment = fastsql.instance(Assignment, row[t + p : t + p + a])
            assignment.task = task
            assignment.response_texts = {rid: text for rid, text in fastsql.json_value(row[-1]) or []}
            return assignment


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
    """The annotator's next task (a lease), or None when nothing is left for them.

    On PostgreSQL with ``ANNOTATION_LEASE_ASYNC_COMMIT`` (the default) the lease's transaction commits
    asynchronously: it does not wait for its WAL to be flushed, which halves the flushes per judgment and took
    the annotation API's p99 from 73-175 to 19-32 ms on a shared 2-core machine (bench/annotation_load.py). The
    only thing a database crash can then lose is leases handed out in its last fraction of a second (the whole
    transaction, so the counts stay exact): their tasks go back to the pool and a submit on one answers that the
    task is not assigned. Judgments always commit synchronously, and their flush makes the lease they close
    durable with them (WAL is flushed in order).
    """
    if kind not in project.task_kinds:
        raise Forbidden(f"This project has no {kind} tasks.", code="kind_disabled")
    assignment, expired_seen = _assign_next(project, annotator, kind)
    if expired_seen:
        # Leases expired somewhere: give their slots back (in transactions of their own, after this one), and if
        # nothing was left for this annotator, look again now that those tasks are open.
        leases_expire(limit=200)
        if assignment is None:
            assignment, _ = _assign_next(project, annotator, kind)
    return assignment


def _assign_next(project: Project, annotator: AbstractBaseUser, kind: str) -> tuple[Assignment | None, bool]:
    """One serving attempt; also says whether the cursor read saw expired leases anywhere (the sweep's probe)."""
    sql = serving_sql.serving(connection.vendor)
    db_now = fastsql.prep(Assignment, "expires_at", timezone.now())
    with transaction.atomic():
        # Serializes one annotator's concurrent requests, so nobody ever holds two leases of one kind: a locking
        # read of the cursor row (or, the first time, an insert, which holds the new row's lock the same way).
        async_commit = connection.vendor == "postgresql" and settings.ANNOTATION_LEASE_ASYNC_COMMIT
        row = fastsql.fetchone(
            sql["cursor_async_commit" if async_commit else "cursor"], [db_now, db_now, project.pk, annotator.pk, kind]
        )
        if row is None:
            cursor, _ = AnnotatorCursor.objects.select_for_update().get_or_create(
                project=project, annotator=annotator, kind=kind
            )
            active = fastsql.fetchone(sql["active"], [annotator.pk, project.pk, kind, db_now])
            expired_seen = fastsql.fetchone(sql["expired_probe"], [db_now]) is not None
        else:
            cursor = AnnotatorCursor(pk=row[0], position=row[1], project=project, annotator=annotator, kind=kind)
            active = (row[2],) if row[2] is not None else None
            expired_seen = bool(row[3])
        cursor.saved_position = cursor.position
        if active is not None:
            # A reload resumes the lease (the payload shows the prompt: loaded with it).
            return Assignment.objects.select_related("task__prompt").get(pk=active[0]), expired_seen
        assignment = None
        if project.gold_ratio > 0 and _rng.random() < project.gold_ratio:
            assignment = _serve_gold(project, annotator, kind)
        if assignment is None:
            assignment = _serve_forward(project, annotator, kind, cursor)
        if assignment is None:
            assignment = _serve_backward(project, annotator, kind, cursor)
        if assignment is None and project.gold_ratio > 0:
            assignment = _serve_gold(project, annotator, kind)
        if cursor.position != cursor.saved_position:
            fastsql.execute(sql["cursor_move"], [cursor.position, cursor.pk])
        return assignment, expired_seen


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


def lease_locked(*, task_id: int, annotator: AbstractBaseUser) -> Assignment | None:
    """The annotator's lease on the task with its task, project and prompt, locked for a submit (or None).

    Locks the lease and the prompt, not the project: submits to other prompts run in parallel, while the consensus
    rebuild (which deletes and re-inserts the prompt's pairs) is serialized per prompt and sees every vote.
    """
    row = fastsql.fetchone(serving_sql.lease(connection.vendor), [task_id, annotator.pk])
    if row is None:
        return None
    a, t, p = fastsql.width(Assignment), fastsql.width(Task), fastsql.width(Project)
    assignment = fastsql.instance(Assignment, row[:a])
    task = fastsql.instance(Task, row[a : a + t])
    task.project = fastsql.instance(Project, row[a + t : a + t + p])
    task.prompt = fastsql.instance(Prompt, row[a + t + p :])
    assignment.task = task
    return assignment


def finish_statements(assignment: Assignment, project: Project) -> list[tuple[str, list]]:
    """The statements (with parameters) that mark the lease submitted and count the task's judgment, and the
    lease's new status and finish time set on the instance."""
    finish, gold_done, done = serving_sql.finish(connection.vendor)
    assignment.status = Assignment.Status.SUBMITTED
    assignment.finished_at = timezone.now()
    finished = fastsql.prep(Assignment, "finished_at", assignment.finished_at)
    statements = [(finish, [assignment.status, finished, assignment.pk])]
    if assignment.is_gold:
        return [*statements, (gold_done, [assignment.task_id])]
    # The CASE sees the counts before the increment: done once this judgment completes the overlap.
    overlap = project.overlap_for(assignment.kind)
    params = [overlap - 1, TaskState.DONE, overlap, TaskState.FULL, TaskState.OPEN, assignment.task_id]
    return [*statements, (done, params)]


def assignment_finish(assignment: Assignment, project: Project) -> None:
    for sql, params in finish_statements(assignment, project):
        fastsql.execute(sql, params)
