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
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from webapp import fastsql
from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from ..models import AnnotatorCursor, Assignment, Project, Prompt, Response, Task, TaskState

_rng = random.SystemRandom()


def _locking(qs):
    """Row locks where the database has them; SQLite serializes writers (IMMEDIATE transactions) instead."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


@cache
def _sql(vendor: str) -> dict[str, str]:
    """The hot path's statements (see webapp/fastsql.py), built once per database vendor."""
    f = fastsql
    T, A, C, P = f.table(Task), f.table(Assignment), f.table(AnnotatorCursor), f.table(Prompt)
    task = {name: f.col(Task, name) for name in ("id", "project", "kind", "is_gold", "state", "order_key", "prompt")}
    task.update(assigned=f.col(Task, "assigned_count"))
    lease = {name: f.col(Assignment, name) for name in ("id", "annotator", "project_id_cache", "kind", "status")}
    lease.update(expires=f.col(Assignment, "expires_at"))
    cur = {name: f.col(AnnotatorCursor, name) for name in ("id", "project", "annotator", "kind", "position")}
    active = f.constant(Assignment.Status.ACTIVE)
    cursor_read = (
        f"SELECT c.{cur['id']}, c.{cur['position']}, (SELECT a.{lease['id']} FROM {A} a "
        f"WHERE a.{lease['annotator']} = c.{cur['annotator']} "
        f"AND a.{lease['project_id_cache']} = c.{cur['project']} AND a.{lease['kind']} = c.{cur['kind']} "
        f"AND a.{lease['status']} = {active} AND a.{lease['expires']} > %s "
        f"ORDER BY a.{lease['id']} + 0 DESC LIMIT 1), "
        f"coalesce((SELECT min(x.{lease['expires']}) FROM {A} x WHERE x.{lease['status']} = {active}) < %s, false)"
        f"{{extra}} FROM {C} c WHERE c.{cur['project']} = %s AND c.{cur['annotator']} = %s AND c.{cur['kind']} = %s"
        + f.for_update("c")
    )
    return {
        # The status of open leases is written into these statements' text, not bound: they run as prepared
        # statements, and the generic plan PostgreSQL settles on after five runs cannot know that 'active' is a
        # handful of rows among millions of 'submitted' ones, so it planned scans of every lease of the annotator
        # (or of the table) per request once the table had statistics. With the value in the text it estimates
        # from the column's statistics, which do know.
        # Whether any active lease has expired: the earliest expiry of an active lease, before now? A min(): one
        # step into the assignment_expiry index whatever the plan.
        "expired_probe": (
            f"SELECT 1 WHERE (SELECT min({lease['expires']}) FROM {A} WHERE {lease['status']} = {active}) < %s"
        ),
        # The cursor row, locked, with the annotator's unexpired active lease in this project and kind (if any) and
        # whether any lease anywhere has expired (the sweep's probe). "ORDER BY id + 0": ordered by id, a plan may
        # walk the primary key backwards through every lease until one matches, and none does for an annotator with
        # no open lease; + 0 leaves it the assignment_active index and a sort of the one row found.
        "cursor": cursor_read.format(extra=""),
        # PostgreSQL, ANNOTATION_LEASE_ASYNC_COMMIT: the same, and this transaction commits without waiting for its
        # WAL to reach the disk (set_config(..., true): this transaction only). See task_assign_next.
        "cursor_async_commit": cursor_read.format(extra=", set_config('synchronous_commit', 'off', true)"),
        "cursor_move": f"UPDATE {C} SET {cur['position']} = %s WHERE {cur['id']} = %s",
        "active": (
            f"SELECT {lease['id']} FROM {A} WHERE {lease['annotator']} = %s AND {lease['project_id_cache']} = %s "
            f"AND {lease['kind']} = %s AND {lease['status']} = {active} AND {lease['expires']} > %s "
            f"ORDER BY {lease['id']} + 0 DESC LIMIT 1"
        ),
        # The next open task after the cursor, with its prompt (the payload shows it). ``is_gold IN (%s)``: see
        # _serve_forward_orm on why not ``NOT is_gold``.
        "forward": (
            f"SELECT {f.select_list(Task, 't')}, {f.select_list(Prompt, 'p')} FROM {T} t "
            f"JOIN {P} p ON p.{f.q('id')} = t.{task['prompt']} "
            f"WHERE t.{task['project']} = %s AND t.{task['kind']} = %s AND t.{task['is_gold']} IN (%s) "
            f"AND t.{task['state']} = %s AND t.{task['order_key']} > %s ORDER BY t.{task['order_key']} LIMIT 1"
            + f.for_update("t", skip_locked=True)
        ),
        **(_forward_take_sql(T, A, C, P, task, cur) if vendor == "postgresql" else {}),
        "take_slot": (
            f"UPDATE {T} SET {task['assigned']} = {task['assigned']} + 1, "
            f"{task['state']} = CASE WHEN {task['assigned']} >= %s THEN %s ELSE %s END "
            f"WHERE {task['id']} = %s AND {task['assigned']} < %s"
        ),
    }


def _forward_take_sql(T: str, A: str, C: str, P: str, task: dict[str, str], cur: dict[str, str]) -> dict[str, str]:
    """PostgreSQL: the forward step in one statement (one round trip instead of four).

    ``t`` locks the next open task after the cursor (SKIP LOCKED), ``s`` takes a slot on it with the same guarded
    UPDATE as ``take_slot``, ``a`` inserts the lease for it with the responses shuffled (PostgreSQL's ``random()``,
    seeded per backend from the OS's strong random source) and ``c`` moves the cursor past it. The row returned is
    the task, its prompt, the lease (NULLs when the slot was not taken: the caller moves on) and the responses'
    id/text pairs for the payload. ``t`` is read once (a CTE that others reference is materialized), so one row is
    locked; ``s`` and ``c`` update rows nothing else in the statement updates.
    """
    f = fastsql
    lease_cols = ["task", "annotator", "project_id_cache", "kind", "status", "is_gold", "display_order"]
    lease_cols += ["expires_at", "created_at"]
    R = f.table(Response)
    return {
        "forward_take": (
            f"WITH t AS (SELECT {f.select_list(Task)} FROM {T} "
            f"WHERE {task['project']} = %s AND {task['kind']} = %s AND {task['is_gold']} IN (%s) "
            f"AND {task['state']} = %s AND {task['order_key']} > %s ORDER BY {task['order_key']} LIMIT 1 "
            f"FOR UPDATE SKIP LOCKED), "
            f"s AS (UPDATE {T} SET {task['assigned']} = {T}.{task['assigned']} + 1, "
            f"{task['state']} = CASE WHEN {T}.{task['assigned']} >= %s THEN %s ELSE %s END "
            f"FROM t WHERE {T}.{task['id']} = t.{task['id']} AND {T}.{task['assigned']} < %s "
            f"RETURNING {T}.{task['id']}), "
            f"a AS (INSERT INTO {A} ({', '.join(f.col(Assignment, c) for c in lease_cols)}) "
            f"SELECT s.{task['id']}, %s, %s, %s, %s, false, "
            f"(SELECT coalesce(jsonb_agg(e ORDER BY random()), '[]'::jsonb) "
            f"FROM jsonb_array_elements(t.{f.col(Task, 'response_ids')}) e), %s, %s "
            f"FROM s JOIN t ON t.{task['id']} = s.{task['id']} RETURNING {f.select_list(Assignment)}), "
            f"c AS (UPDATE {C} SET {cur['position']} = t.{task['order_key']} FROM t WHERE {C}.{cur['id']} = %s) "
            f"SELECT {f.select_list(Task, 't')}, {f.select_list(Prompt, 'p')}, {f.select_list(Assignment, 'a')}, "
            f"(SELECT json_agg(json_build_array(r.{f.q('id')}, r.{f.col(Response, 'text')})) FROM {R} r "
            f"WHERE r.{f.q('id')} IN (SELECT (jsonb_array_elements_text(t.{f.col(Task, 'response_ids')}))::bigint)) "
            f"FROM t JOIN {P} p ON p.{f.q('id')} = t.{task['prompt']} LEFT JOIN a ON true"
        )
    }


def take_slot(task_id: int, overlap: int) -> bool:
    """Atomically take one of the task's ``overlap`` slots; False when it is full.

    One guarded UPDATE: the database decides, not Python (the CASE sees the row's count before the increment).
    """
    sql = _sql(connection.vendor)["take_slot"]
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


def _serve_forward(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    # ``is_gold IN (false)``, not ``NOT is_gold``: SQLite cannot match the latter against the task_serving index, so
    # it sorted every task of the project per request (O(n)); an IN of one value is an equality it seeks on.
    if connection.vendor == "postgresql":
        return _serve_forward_one_statement(project, annotator, kind, cursor)
    overlap = project.overlap_for(kind)
    sql = _sql(connection.vendor)["forward"]
    width = fastsql.width(Task)
    while True:
        row = fastsql.fetchone(sql, [project.pk, kind, False, TaskState.OPEN, cursor.position])
        if row is None:
            return None
        task = fastsql.instance(Task, row[:width])
        task.prompt = fastsql.instance(Prompt, row[width:])
        cursor.position = task.order_key
        if take_slot(task.pk, overlap):  # (the cursor is saved at the end, once)
            return _new_assignment(task, project, annotator)


def _serve_forward_one_statement(project: Project, annotator: AbstractBaseUser, kind: str, cursor: AnnotatorCursor):
    """PostgreSQL: lock, take a slot, insert the lease and move the cursor in one statement (``forward_take``)."""
    overlap = project.overlap_for(kind)
    sql = _sql("postgresql")["forward_take"]
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
        task = fastsql.instance(Task, row[:t])
        task.prompt = fastsql.instance(Prompt, row[t : t + p])
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
    sql = _sql(connection.vendor)
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


@cache
def _lease_sql(vendor: str) -> str:
    f = fastsql
    A, T, P, R = f.table(Assignment), f.table(Task), f.table(Project), f.table(Prompt)
    lock = f.for_update("a, r")
    return (
        f"SELECT {f.select_list(Assignment, 'a')}, {f.select_list(Task, 't')}, {f.select_list(Project, 'p')}, "
        f"{f.select_list(Prompt, 'r')} FROM {A} a "
        f"JOIN {T} t ON t.{f.q('id')} = a.{f.col(Assignment, 'task')} "
        f"JOIN {P} p ON p.{f.q('id')} = t.{f.col(Task, 'project')} "
        f"JOIN {R} r ON r.{f.q('id')} = t.{f.col(Task, 'prompt')} "
        f"WHERE a.{f.col(Assignment, 'task')} = %s AND a.{f.col(Assignment, 'annotator')} = %s{lock}"
    )


def lease_locked(*, task_id: int, annotator: AbstractBaseUser) -> Assignment | None:
    """The annotator's lease on the task with its task, project and prompt, locked for a submit (or None).

    Locks the lease and the prompt, not the project: submits to other prompts run in parallel, while the consensus
    rebuild (which deletes and re-inserts the prompt's pairs) is serialized per prompt and sees every vote.
    """
    row = fastsql.fetchone(_lease_sql(connection.vendor), [task_id, annotator.pk])
    if row is None:
        return None
    a, t, p = fastsql.width(Assignment), fastsql.width(Task), fastsql.width(Project)
    assignment = fastsql.instance(Assignment, row[:a])
    task = fastsql.instance(Task, row[a : a + t])
    task.project = fastsql.instance(Project, row[a + t : a + t + p])
    task.prompt = fastsql.instance(Prompt, row[a + t + p :])
    assignment.task = task
    return assignment


@cache
def _finish_sql(vendor: str) -> tuple[str, str, str]:
    f = fastsql
    A, T = f.table(Assignment), f.table(Task)
    done, assigned = f.col(Task, "completed_count"), f.col(Task, "assigned_count")
    return (
        f"UPDATE {A} SET {f.col(Assignment, 'status')} = %s, {f.col(Assignment, 'finished_at')} = %s "
        f"WHERE {f.q('id')} = %s",
        f"UPDATE {T} SET {done} = {done} + 1 WHERE {f.q('id')} = %s",
        f"UPDATE {T} SET {done} = {done} + 1, {f.col(Task, 'state')} = CASE WHEN {done} >= %s THEN %s "
        f"WHEN {assigned} >= %s THEN %s ELSE %s END WHERE {f.q('id')} = %s",
    )


def finish_statements(assignment: Assignment, project: Project) -> list[tuple[str, list]]:
    """The statements (with parameters) that mark the lease submitted and count the task's judgment, and the
    lease's new status and finish time set on the instance."""
    finish, gold_done, done = _finish_sql(connection.vendor)
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
