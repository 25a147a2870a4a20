"""One Job model for every kind of worker work; metrics as (step, name, value) points.

Lifecycle: queued → running → succeeded | failed | cancelled. A task claims a job with ``select_for_update``:
only a queued job, or a running one whose heartbeat went stale, is taken — so broker redelivery is harmless.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    class Queue(models.TextChoices):
        DEFAULT = "default", "default"
        CPU = "cpu", "cpu"
        GPU = "gpu", "gpu"

    kind = models.CharField(max_length=32, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    config = models.JSONField(default=dict, help_text="Validated by the kind's config dataclass; defaults filled in.")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    queue = models.CharField(max_length=16, choices=Queue.choices, default=Queue.CPU)
    resources = models.JSONField(default=dict, blank=True, help_text='e.g. {"gpus": 8, "hosts": 2}')
    cancel_requested = models.BooleanField(default=False)
    attempt = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed this job.")
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_step = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=255, blank=True)
    progress_started_at = models.DateTimeField(null=True, blank=True)
    progress_started_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    log_tail = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Summary and reports (funnel, samples, ...).")
    rendezvous = models.JSONField(
        default=dict, blank=True, help_text="Multi-host jobs: the c10d endpoint node 0 published and the nodes."
    )
    inputs = models.ManyToManyField("training.Artifact", blank=True, related_name="consumers")
    source_job = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="clones", help_text="Cloned from."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_stale")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def hosts(self) -> int:
        return int(self.resources.get("hosts", 1) or 1)

    @property
    def processes_per_host(self) -> int:
        """torchrun processes per host: ``processes`` if set, else one per requested GPU."""
        return int(self.resources.get("processes") or self.resources.get("gpus") or 1)

    @property
    def is_distributed(self) -> bool:
        return self.hosts > 1 or self.processes_per_host > 1

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def folder_name(self) -> str:
        return f"jobs/{self.pk:06d}-{self.kind}"

    @property
    def folder(self):
        return settings.ARTIFACTS_ROOT / self.folder_name

    @property
    def fraction_done(self) -> float | None:
        if not self.progress_total:
            return None
        return min(1.0, self.progress_step / self.progress_total)

    @property
    def eta(self) -> timedelta | None:
        """Remaining time from the rate since this attempt started (resumed steps do not inflate the rate)."""
        if self.status != JobStatus.RUNNING or not self.progress_total or not self.progress_started_at:
            return None
        done = self.progress_step - self.progress_started_step
        if done <= 0:
            return None
        elapsed = (timezone.now() - self.progress_started_at).total_seconds()
        return timedelta(seconds=elapsed / done * max(0, self.progress_total - self.progress_step))

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class JobMetric(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="metric_points")
    step = models.BigIntegerField()
    name = models.CharField(max_length=64)
    value = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "name", "step"], name="jobmetric_series")]

    def __str__(self) -> str:
        return f"{self.name}@{self.step}={self.value:g}"
