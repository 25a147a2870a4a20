"""Project counts for the stats API and pages: aggregate queries, never row scans in Python."""

from typing import Any

from django.db.models import Count, Q

from ..models import Assignment, Demonstration, Judgment, PreferencePair, Project, Task


def project_stats(*, project: Project) -> dict[str, Any]:
    tasks = Task.objects.filter(project=project, is_gold=False)
    by_kind = {
        row["kind"]: {
            "total": row["total"],
            "open": row["open"],
            "full": row["full"],
            "done": row["done"],
        }
        for row in tasks.values("kind").annotate(
            total=Count("id"),
            open=Count("id", filter=Q(state="open")),
            full=Count("id", filter=Q(state="full")),
            done=Count("id", filter=Q(state="done")),
        )
    }
    per_annotator = list(
        Assignment.objects.filter(project_id_cache=project.pk)
        .values("annotator__username")
        .annotate(
            submitted=Count("id", filter=Q(status="submitted")),
            skipped=Count("id", filter=Q(status="skipped")),
            active=Count("id", filter=Q(status="active")),
            expired=Count("id", filter=Q(status="expired")),
        )
        .order_by("annotator__username")
    )
    demos = dict(
        Demonstration.objects.filter(task__project=project)
        .values_list("review_status")
        .annotate(n=Count("id"))
        .values_list("review_status", "n")
    )
    pairs = PreferencePair.objects.filter(project=project).aggregate(
        total=Count("id"), ties=Count("id", filter=Q(is_tie=True))
    )
    return {
        "project": project.pk,
        "prompts": project.prompts.count(),
        "prompts_per_split": dict(
            project.prompts.values_list("split").annotate(n=Count("id")).values_list("split", "n")
        ),
        "tasks": by_kind,
        "gold_tasks": Task.objects.filter(project=project, is_gold=True).count(),
        "judgments": Judgment.objects.filter(task__project=project, is_gold=False).count(),
        "gold_judgments": Judgment.objects.filter(task__project=project, is_gold=True).count(),
        "demonstrations": {s: demos.get(s, 0) for s in ("pending", "accepted", "rejected")},
        "preference_pairs": pairs["total"],
        "preference_ties": pairs["ties"],
        "annotators": [{"username": row.pop("annotator__username"), **row} for row in per_annotator],
    }
