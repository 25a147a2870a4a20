"""The statements of the serving and submitting hot paths (annotation/services/assignment.py), written once per
database vendor with webapp/fastsql.py: table and column names from the models, values bound (or, where a plan
depends on it, the code's own constants)."""

from functools import cache

from webapp import fastsql

from ..models import AnnotatorCursor, Assignment, Project, Prompt, Response, Task


@cache
def serving(vendor: str) -> dict[str, str]:
    """The hot path's statements (see webapp/fastsql.py), built once per database vendor."""
    f = fastsql
    T, A, C, P = f.table(Task), f.table(Assignment), f.table(AnnotatorCursor), f.table(Prompt)
    task = {name: f.col(Task, name) for name in ("id", "project", "kind", "is_gold", "state", "order_key", "prompt")}
    task.update(assigned=f.col(Task, "assigned_count"))
    lease = {name: f.col(Assignment, name) for name in ("id", "annotator", "project_id_cache", "kind", "status")}
    lease.update(expires=f.col(Assignment, "expires_at"))
    cur = {name: f.col(AnnotatorCursor, name) for name in ("id", "project", "annotator", "kind", "position")}
    active = f.constant(Assignment.Status.ACTIVE)
    # Whether any active lease has expired (one bound parameter: now).
    expired = f"(SELECT min(x.{lease['expires']}) FROM {A} x WHERE x.{lease['status']} = {active}) < %s"
    cursor_read = (
        f"SELECT c.{cur['id']}, c.{cur['position']}, (SELECT a.{lease['id']} FROM {A} a "
        f"WHERE a.{lease['annotator']} = c.{cur['annotator']} "
        f"AND a.{lease['project_id_cache']} = c.{cur['project']} AND a.{lease['kind']} = c.{cur['kind']} "
        f"AND a.{lease['status']} = {active} AND a.{lease['expires']} > %s "
        f"ORDER BY a.{lease['id']} + 0 DESC LIMIT 1), "
        f"coalesce({expired}, false){{extra}} "
        f"FROM {C} c WHERE c.{cur['project']} = %s AND c.{cur['annotator']} = %s AND c.{cur['kind']} = %s"
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
        "expired_probe": f"SELECT 1 WHERE {expired}",
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
        # assignment._serve_forward on why not ``NOT is_gold``.
        "forward": (
            f"SELECT {f.select_list(Task, 't')}, {f.select_list(Prompt, 'p')} FROM {T} t "
            f"JOIN {P} p ON p.{f.q('id')} = t.{task['prompt']} "
            f"WHERE t.{task['project']} = %s AND t.{task['kind']} = %s AND t.{task['is_gold']} IN (%s) "
            f"AND t.{task['state']} = %s AND t.{task['order_key']} > %s ORDER BY t.{task['order_key']} LIMIT 1"
            + f.for_update("t", skip_locked=True)
        ),
        **(_forward_take(T, A, C, P, task, cur) if vendor == "postgresql" else {}),
        "take_slot": f"UPDATE {T} {_slot_set(T, task)} WHERE {task['id']} = %s AND {_slot_free(T, task)}",
    }


def _slot_set(T: str, task: dict[str, str]) -> str:
    """Taking a slot (parameters: overlap - 1, the full state, the open state): one more assigned, and the task full
    once that was the last slot (the CASE sees the count before the increment)."""
    assigned = f"{T}.{task['assigned']}"
    return f"SET {task['assigned']} = {assigned} + 1, {task['state']} = CASE WHEN {assigned} >= %s THEN %s ELSE %s END"


def _slot_free(T: str, task: dict[str, str]) -> str:
    """The guard that makes taking a slot safe under concurrency (parameter: overlap)."""
    return f"{T}.{task['assigned']} < %s"


def _forward_take(T: str, A: str, C: str, P: str, task: dict[str, str], cur: dict[str, str]) -> dict[str, str]:
    """PostgreSQL: the forward step in one statement (one round trip instead of four).

    ``t`` locks the next open task after the cursor (SKIP LOCKED), ``s`` takes a slot on it with ``take_slot``'s
    guarded UPDATE, ``a`` inserts the lease for it with the responses shuffled (PostgreSQL's ``random()``,
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
            f"s AS (UPDATE {T} {_slot_set(T, task)} "
            f"FROM t WHERE {T}.{task['id']} = t.{task['id']} AND {_slot_free(T, task)} "
            f"RETURNING {T}.{task['id']}), "
            f"a AS (INSERT INTO {A} ({', '.join(f.col(Assignment, c) for c in lease_cols)}) "
            f"SELECT s.{task['id']}, %s, %s, %s, %s, false, "
            f"(SELECT coalesce(jsonb_agg(e ORDER BY random()), '[]'::jsonb) "
            f"FROM jsonb_array_elements(t.{f.col(Task, 'response_ids')}) e), %s, %s "
            f"FROM s JOIN t ON t.{task['id']} = s.{task['id']} RETURNING {f.select_list(Assignment)}), "
            f"c AS (UPDATE {C} SET {cur['position']} = t.{task['order_key']} FROM t WHERE {C}.{cur['id']} = %s) "
            f"SELECT {f.select_list(Task, 't')}, {f.select_list(Prompt, 'p')}, {f.select_list(Assignment, 'a')}, "
            f"(SELECT json_agg(json_build_array(e.id, (SELECT r.{f.col(Response, 'text')} FROM {R} r "
            f"WHERE r.{f.q('id')} = e.id))) FROM (SELECT (jsonb_array_elements_text(t.{f.col(Task, 'response_ids')}))"
            f"::bigint AS id) e) "
            f"FROM t JOIN {P} p ON p.{f.q('id')} = t.{task['prompt']} LEFT JOIN a ON true"
        )
    }


@cache
def lease(vendor: str) -> str:
    """The annotator's lease on a task, joined to its task, project and prompt, locking the lease and the prompt."""
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


@cache
def finish(vendor: str) -> tuple[str, str, str]:
    """Close a lease; count a gold judgment; count a judgment and move the task's state (see finish_statements)."""
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
