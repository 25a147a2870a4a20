"""Each annotator's done / remaining counts, per project and task kind, from aggregate queries only.

"Remaining" is the number of open, non-gold tasks the annotator has not touched yet: what the server could still serve
them now (tasks fully leased by others are not counted until a lease expires and they reopen). Since an annotator has
at most one assignment per task, it equals (open tasks) - (open tasks the annotator has an assignment for): two grouped
counts over indexed columns instead of an anti-join per task, so a page costs a fixed number of queries however many
projects the user belongs to.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q

from ..models import Assignment, Task, TaskState

KINDS = ("comparison", "demonstration")


def progress_for(*, user: AbstractBaseUser, project_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """``{project_id: {kind: {"done": n, "remaining": m}}}`` for every kind, zeros where nothing exists."""
    ids = list(project_ids)
    out: dict[int, dict[str, dict[str, int]]] = {
        pid: {kind: {"done": 0, "remaining": 0} for kind in KINDS} for pid in ids
    }
    if not ids or not user.is_authenticated:
        return out
    open_tasks: dict[tuple[int, str], int] = defaultdict(int)
    for project_id, kind, n in (
        Task.objects.filter(project_id__in=ids, is_gold=False, state=TaskState.OPEN)
        .values_list("project_id", "kind")
        .annotate(n=Count("id"))
        .values_list("project_id", "kind", "n")
    ):
        open_tasks[(project_id, kind)] = n
    for project_id, kind, done, touched in (
        Assignment.objects.filter(annotator=user, project_id_cache__in=ids)
        .values_list("project_id_cache", "kind")
        .annotate(
            done=Count("id", filter=Q(status=Assignment.Status.SUBMITTED)),
            touched=Count("id", filter=Q(is_gold=False, task__state=TaskState.OPEN)),
        )
        .values_list("project_id_cache", "kind", "done", "touched")
    ):
        if kind in KINDS:
            out[project_id][kind]["done"] = done
            open_tasks[(project_id, kind)] -= touched
    for (project_id, kind), n in open_tasks.items():
        if kind in KINDS:
            out[project_id][kind]["remaining"] = max(n, 0)
    return out
