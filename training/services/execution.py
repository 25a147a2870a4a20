"""Running a job on a worker: claim it, run its runner with a database-backed context, record the outcome."""

import logging
import multiprocessing
import os
import socket
import traceback as tb
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..configs import ConfigError
from ..distributed_launch import DistributedRunError, free_port, node_address, run_node
from ..job_context import JobContext
from ..models import Job, JobStatus
from ..runners import get_kind, validate_config
from ..runners.base import JobCancelled
from .artifacts import artifact_register

logger = logging.getLogger(__name__)


def job_claim(*, job_id: int, hostname: str) -> tuple[Job, int] | None:
    """Take the job if it is queued, or running with a stale heartbeat (its worker died): (job, node 0).

    A multi-host job is taken by ``hosts`` workers: the first publishes the rendezvous endpoint, the next ones
    join as nodes 1, 2, ... of the same attempt. Anything else gets None.
    """
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        is_stale = job.heartbeat_at is None or job.heartbeat_at < stale
        nodes = job.rendezvous.get("nodes", [])
        if (
            job.status == JobStatus.RUNNING
            and not is_stale
            and job.hosts > 1
            and len(nodes) < job.hosts
            and job.rendezvous.get("attempt") == job.attempt
            and not job.cancel_requested
        ):
            job.rendezvous = {**job.rendezvous, "nodes": [*nodes, f"{hostname or socket.gethostname()}:{os.getpid()}"]}
            job.save(update_fields=["rendezvous"])
            return job, len(nodes)
        claimable = job.status == JobStatus.QUEUED or (job.status == JobStatus.RUNNING and is_stale)
        if not claimable:
            return None
        now = timezone.now()
        if job.cancel_requested:
            job.status, job.finished_at = JobStatus.CANCELLED, now
            job.save(update_fields=["status", "finished_at"])
            return None
        job.status = JobStatus.RUNNING
        job.attempt += 1
        job.worker_host = hostname or socket.gethostname()
        job.worker_pid = os.getpid()
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.progress_started_at = now
        job.progress_started_step = job.progress_step
        job.rendezvous = {}
        if job.hosts > 1:
            job.rendezvous = {
                "endpoint": f"{node_address()}:{free_port()}",
                "nodes": [f"{job.worker_host}:{job.worker_pid}"],
                "attempt": job.attempt,
            }
        job.save()
        return job, 0


def _oom_hint(exc: BaseException) -> str | None:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return (
            f"Out of memory ({text.splitlines()[0][:300]}). Lower the batch size (per_device_batch_size / "
            "micro_batch_size), the sequence length or the model size, or enable activation checkpointing."
        )
    return None


def _finish(job: Job, status: str, *, message: str = "", trace: str = "", summary: dict | None = None) -> None:
    fields = {"status": status, "finished_at": timezone.now(), "error_message": message, "traceback": trace}
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.status != JobStatus.RUNNING or current.worker_pid != job.worker_pid:
            return  # someone else (the reaper, another worker) took the job over meanwhile
        for key, value in fields.items():
            setattr(current, key, value)
        if summary is not None:
            current.result = {**current.result, "summary": summary}
        current.save()


@contextmanager
def _children_allowed():
    """Let the runner start worker processes (the data runners use a process pool).

    Celery's prefork pool marks the task process daemonic, and multiprocessing refuses to start children from a
    daemonic process; the runners' pools watch their parent and exit with it, so lifting the flag for the job's
    duration orphans nothing.
    """
    process = multiprocessing.current_process()
    saved = dict(process._config)
    process._config["daemon"] = False
    # billiard leaves its own AuthenticationString here, which the standard library refuses to pickle when spawning.
    process._config["authkey"] = multiprocessing.process.AuthenticationString(bytes(process.authkey))
    try:
        yield
    finally:
        process._config.clear()
        process._config.update(saved)


def _run_success_hooks(job: Job) -> None:
    """settings.JOB_SUCCESS_HOOKS, e.g. the evaluation app's default suite; a failing hook never fails the job."""
    from django.utils.module_loading import import_string

    for path in settings.JOB_SUCCESS_HOOKS:
        try:
            import_string(path)(Job.objects.get(pk=job.pk))
        except Exception:
            logger.exception("success hook %s failed for job %s", path, job.pk)


def _requeue_for_failover(job: Job, reason: str) -> None:
    """A node of a distributed run failed: start the whole run again from its last checkpoint (once per attempt)."""
    from .jobs import enqueue

    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.status != JobStatus.RUNNING or current.attempt != job.attempt:
            return  # another node already requeued (or finished) this attempt
        current.status = JobStatus.QUEUED
        current.rendezvous = {}
        note = f"[plumbline] attempt {job.attempt} failed ({reason.splitlines()[0][:300]}); resuming from checkpoint"
        current.log_tail = (current.log_tail + "\n" + note)[-20000:]
        current.save(update_fields=["status", "rendezvous", "log_tail"])
        enqueue(current)


def job_execute(*, job_id: int, hostname: str = "") -> str:
    """Claim and run the job; returns its final status (or "skipped" when it was not claimable).

    Jobs asking for several processes or hosts run their runner under torchrun (training.distributed_launch);
    every node heartbeats, node 0 records the outcome.
    """
    claimed = job_claim(job_id=job_id, hostname=hostname)
    if claimed is None:
        return "skipped"
    job, node = claimed
    ctx = JobContext(job, reporting=node == 0 and not job.is_distributed)
    ctx.start()
    try:
        config = validate_config(job.kind, job.config)
        if node == 0:
            where = (
                f"{job.hosts} host(s) x {job.processes_per_host} process(es)" if job.is_distributed else "in-process"
            )
            ctx.log(f"[plumbline] {job.kind} job {job.pk}, attempt {job.attempt}, on {job.worker_host} ({where})")
        if job.is_distributed:
            ctx.flush()
            result = run_node(job, ctx, node)
            if result is None:  # another node records the outcome
                ctx.stop()
                return "node-done"
        else:
            with _children_allowed():
                result = get_kind(job.kind).load_runner()(config, ctx)
        ctx.flush()
        with transaction.atomic():
            for spec in result.artifacts:
                artifact_register(spec=spec, job=job)
        ctx.stop()
        _finish(job, JobStatus.SUCCEEDED, summary=result.summary)
        _run_success_hooks(job)
    except JobCancelled:
        ctx.log("[plumbline] cancelled; checkpoints kept")
        ctx.stop()
        _finish(job, JobStatus.CANCELLED, message="Cancelled on request.")
    except ConfigError as exc:
        ctx.stop()
        _finish(job, JobStatus.FAILED, message=f"Invalid config: {exc}. Fix it and clone the job.")
    except DistributedRunError as exc:
        ctx.stop()
        if job.attempt <= int(job.resources.get("max_restarts", settings.JOB_MAX_RESTARTS)):
            _requeue_for_failover(job, str(exc))
        else:
            _finish(job, JobStatus.FAILED, message=f"{exc} (after {job.attempt} attempts)")
    except BaseException as exc:  # a job's failure must never take the worker down with it
        trace = tb.format_exc()
        logger.exception("job %s failed", job.pk)
        ctx.log(trace)
        ctx.stop()
        message = _oom_hint(exc) or f"{type(exc).__name__}: {exc}"
        _finish(job, JobStatus.FAILED, message=message, trace=trace)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)
