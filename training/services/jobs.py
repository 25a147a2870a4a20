"""Launching, cancelling, retrying and cloning jobs; requeueing jobs whose worker died."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from webapp.api_errors import ApiError, Conflict

from ..configs import ConfigError, artifact_fields, to_dict
from ..models import Job, JobStatus
from ..runners import KINDS, get_kind, validate_config
from .artifacts import artifact_resolve

# Kinds whose runners initialise torch.distributed from torchrun's environment.
DISTRIBUTED_KINDS = {"pretrain", "sft", "reward_model", "dpo", "grpo", "rloo"}  # ppo: one process for now


def enqueue(job: Job) -> None:
    """Send the job's tasks (one per host) once the surrounding transaction commits."""
    from ..tasks import run_job

    def send() -> None:
        for _ in range(job.hosts):  # one task per host: each worker that takes one becomes a node
            run_job.apply_async(args=[job.pk], queue=job.queue)

    transaction.on_commit(send)


def validated_config(kind: str, config: Any) -> tuple[dict[str, Any], list]:
    """The config with defaults filled in and "latest" inputs pinned to artifact ids; plus the input artifacts."""
    if kind not in KINDS:
        raise ApiError(f"Unknown job kind {kind!r}; known kinds: {sorted(KINDS)}.", code="unknown_kind")
    try:
        parsed = validate_config(kind, config)
    except ConfigError as exc:
        raise ApiError(f"Invalid config: {exc}", code="invalid_config", field=exc.field) from None
    data = to_dict(parsed)
    inputs = []
    for name, artifact_kind in artifact_fields(type(parsed)).items():
        value = data.get(name)
        if value in (None, "", []):
            continue
        refs = value if isinstance(value, list) else [value]
        resolved = [artifact_resolve(ref, artifact_kind) for ref in refs]
        inputs.extend(resolved)
        pinned = [str(a.pk) for a in resolved]
        data[name] = pinned if isinstance(value, list) else pinned[0]
    return data, inputs


@transaction.atomic
def job_launch(
    *,
    kind: str,
    config: Any = None,
    created_by: AbstractBaseUser | None = None,
    name: str = "",
    queue: str | None = None,
    resources: dict | None = None,
    source_job: Job | None = None,
) -> Job:
    data, inputs = validated_config(kind, config or {})
    queue = queue or get_kind(kind).queue
    if queue not in Job.Queue.values:
        raise ApiError(f"queue must be one of {Job.Queue.values}.", code="invalid_queue")
    resources = resources or {}
    unknown = set(resources) - {"gpus", "hosts", "processes", "max_restarts"}
    if unknown:
        raise ApiError(
            f"Unknown resources {sorted(unknown)}; use gpus, hosts, processes, max_restarts.", code="invalid_resources"
        )
    for key in ("gpus", "hosts", "processes", "max_restarts"):
        value = resources.get(key, 1)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if key in ("gpus", "max_restarts") else 1)
        ):
            raise ApiError(f"resources.{key} must be a whole number.", code="invalid_resources")
    if (resources.get("hosts", 1) > 1 or resources.get("processes", 1) > 1 or resources.get("gpus", 0) > 1) and (
        kind not in DISTRIBUTED_KINDS
    ):
        raise ApiError(
            f"{kind} runs in one process; it cannot use several processes or hosts.", code="invalid_resources"
        )
    job = Job.objects.create(
        kind=kind,
        name=name,
        config=data,
        queue=queue,
        resources=resources,
        created_by=created_by,
        source_job=source_job,
    )
    job.inputs.set(inputs)
    enqueue(job)
    return job


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """A queued job ends at once; a running one is asked to stop (its runner checks within seconds)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise Conflict(f"The job has already {job.status}.", code="finished")
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
    job.cancel_requested = True
    job.save(update_fields=["status", "finished_at", "cancel_requested"])
    return job


@transaction.atomic
def job_retry(*, job: Job) -> Job:
    """Requeue a failed or cancelled job in place: same folder, so the runner resumes from its last checkpoint."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict("Only failed or cancelled jobs can be retried.", code="not_retryable")
    job.status = JobStatus.QUEUED
    job.cancel_requested = False
    job.error_message = job.traceback = ""
    job.finished_at = None
    job.save(update_fields=["status", "cancel_requested", "error_message", "traceback", "finished_at"])
    enqueue(job)
    return job


def job_clone(*, job: Job, created_by: AbstractBaseUser | None = None, config: Any = None) -> Job:
    """A new job with the same kind and config (optionally changed), fresh folder."""
    return job_launch(
        kind=job.kind,
        config=config if config is not None else job.config,
        created_by=created_by,
        name=job.name,
        queue=job.queue,
        resources=job.resources,
        source_job=job,
    )


def jobs_reap_stale(*, stale_seconds: int | None = None) -> list[int]:
    """Requeue running jobs whose heartbeat went stale (the worker died); another worker resumes them."""
    stale = timezone.now() - timedelta(seconds=stale_seconds or settings.JOB_STALE_SECONDS)
    requeued = []
    with transaction.atomic():
        qs = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        for job in qs:
            job.status = JobStatus.QUEUED
            job.log_tail = (job.log_tail + f"\n[plumbline] heartbeat from {job.worker_host} went stale; requeued.")[
                -20000:
            ]
            job.save(update_fields=["status", "log_tail"])
            enqueue(job)
            requeued.append(job.pk)
    return requeued
