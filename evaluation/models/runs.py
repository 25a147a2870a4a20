"""Evaluation results, stored per model version, suite and metric, with per-example rows for the viewer."""

from django.db import models


class EvaluationRun(models.Model):
    """One suite evaluated on one model version (by an ``evaluate`` job, or filled in by human judgments)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting for human judgments"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    model = models.ForeignKey("training.Artifact", on_delete=models.CASCADE, related_name="evaluations")
    baseline = models.ForeignKey(
        "training.Artifact", null=True, blank=True, on_delete=models.SET_NULL, related_name="baseline_evaluations"
    )
    job = models.ForeignKey(
        "training.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluations"
    )
    suite = models.CharField(max_length=32, db_index=True)
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    annotation_project_id = models.BigIntegerField(null=True, blank=True, help_text="Human win-rate / red-team tasks.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["model", "suite", "-id"], name="evalrun_latest")]

    def __str__(self) -> str:
        return f"{self.suite} on {self.model_id} ({self.status})"


class MetricValue(models.Model):
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=64)
    value = models.FloatField()
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0, help_text="Examples behind the value.")
    higher_is_better = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="metric_unique_name")]

    def __str__(self) -> str:
        return f"{self.name}={self.value:.4g}"


class ExampleResult(models.Model):
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="examples")
    index = models.PositiveIntegerField()
    category = models.CharField(max_length=64, blank=True, db_index=True)
    input = models.TextField()
    output = models.TextField(blank=True)
    reference = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    correct = models.BooleanField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="example_unique_index")]

    def __str__(self) -> str:
        return f"example {self.index} of run {self.run_id}"
