"""Tasks and the per-annotator cursor that makes serving the next task O(log n).

A task is open while ``assigned_count < overlap``: active leases plus finished judgments. The guarded increment of
``assigned_count`` is the one place a slot is taken, so overlap holds under any concurrency on any database.
Tasks are visited in a random but fixed ``order_key`` order; each annotator's cursor only moves forward, so the
forward query never has to exclude tasks the annotator has already seen.
"""

from django.conf import settings
from django.db import models

from .projects import Project
from .prompts import Prompt, Response


class TaskKind(models.TextChoices):
    COMPARISON = "comparison", "Comparison"
    DEMONSTRATION = "demonstration", "Demonstration"


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    FULL = "full", "Fully assigned"
    DONE = "done", "Done"


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    responses = models.ManyToManyField(Response, blank=True, related_name="tasks")
    response_ids = models.JSONField(default=list, blank=True, help_text="Response ids in canonical order.")
    order_key = models.BigIntegerField(help_text="Random, fixed serving order.")
    state = models.CharField(max_length=8, choices=TaskState.choices, default=TaskState.OPEN)
    assigned_count = models.PositiveIntegerField(default=0, help_text="Active leases + submitted.")
    completed_count = models.PositiveIntegerField(default=0)
    is_gold = models.BooleanField(default=False)
    gold_ranking = models.JSONField(null=True, blank=True, help_text="Known answer: ranking of response ids.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "kind", "is_gold", "state", "order_key"], name="task_serving"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(completed_count__lte=models.F("assigned_count")),
                name="task_completed_le_assigned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} task {self.pk} ({self.state})"


class AnnotatorCursor(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    position = models.BigIntegerField(default=-(2**63))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "annotator", "kind"], name="cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"cursor of {self.annotator_id} in project {self.project_id} ({self.kind})"
