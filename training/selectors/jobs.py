"""Reads for job pages and the API: job payloads, metric series, lineage."""

from typing import Any

from django.db.models import QuerySet

from ..configs import json_schema
from ..models import Artifact, Job, JobMetric
from ..runners import KINDS


def jobs_list(*, kind: str | None = None, status: str | None = None, queue: str | None = None) -> QuerySet[Job]:
    qs = Job.objects.select_related("created_by").order_by("-id")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if queue:
        qs = qs.filter(queue=queue)
    return qs


def job_payload(job: Job) -> dict[str, Any]:
    eta = job.eta
    duration = job.duration
    return {
        "id": job.pk,
        "kind": job.kind,
        "name": job.name,
        "status": job.status,
        "queue": job.queue,
        "resources": job.resources,
        "config": job.config,
        "attempt": job.attempt,
        "cancel_requested": job.cancel_requested,
        "worker_host": job.worker_host,
        "worker_pid": job.worker_pid,
        "heartbeat_at": job.heartbeat_at,
        "progress": {
            "step": job.progress_step,
            "total": job.progress_total,
            "fraction": job.fraction_done,
            "message": job.progress_message,
            "eta_seconds": eta.total_seconds() if eta else None,
        },
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration_seconds": duration.total_seconds() if duration else None,
        "error_message": job.error_message,
        "log_tail": job.log_tail,
        "result": job.result,
        "inputs": [artifact_payload(a) for a in job.inputs.all()],
        "outputs": [artifact_payload(a) for a in job.outputs.all()],
        "source_job": job.source_job_id,
        "created_by": job.created_by.username if job.created_by else None,
    }


def artifact_payload(artifact: Artifact) -> dict[str, Any]:
    return {
        "id": artifact.pk,
        "kind": artifact.kind,
        "name": artifact.name,
        "path": artifact.path,
        "size_bytes": artifact.size_bytes,
        "file_count": artifact.file_count,
        "sha256": artifact.sha256,
        "job": artifact.job_id,
        "parents": list(artifact.parents.values_list("pk", flat=True)),
        "metadata": artifact.metadata,
        "created_at": artifact.created_at,
    }


def job_metric_series(*, job: Job, since_id: int = 0, names: list[str] | None = None) -> dict[str, Any]:
    """Metric points after ``since_id`` grouped by name, for charts that append as a job runs."""
    qs = JobMetric.objects.filter(job=job, id__gt=since_id)
    if names:
        qs = qs.filter(name__in=names)
    series: dict[str, dict[str, list]] = {}
    last_id = since_id
    for pk, name, step, value in qs.order_by("id").values_list("id", "name", "step", "value")[:50_000]:
        entry = series.setdefault(name, {"step": [], "value": []})
        entry["step"].append(step)
        entry["value"].append(value)
        last_id = pk
    return {"last_id": last_id, "series": series}


def artifact_lineage(artifact: Artifact, depth: int = 20) -> list[dict[str, Any]]:
    """The artifact's ancestors, breadth first, as edges (child → parent) for a lineage graph."""
    edges, frontier, seen = [], [artifact], {artifact.pk}
    for _ in range(depth):
        nxt = []
        for node in frontier:
            for parent in node.parents.all():
                edges.append({"child": artifact_payload(node), "parent": artifact_payload(parent)})
                if parent.pk not in seen:
                    seen.add(parent.pk)
                    nxt.append(parent)
        if not nxt:
            break
        frontier = nxt
    return edges


def job_kinds_catalog() -> list[dict[str, Any]]:
    return [
        {
            "kind": k.name,
            "queue": k.queue,
            "description": k.description,
            "config_schema": json_schema(k.load_config_class()),
        }
        for k in KINDS.values()
    ]
