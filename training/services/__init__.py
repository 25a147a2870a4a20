"""Every write in the training app."""

from .artifacts import artifact_register, artifact_resolve
from .execution import job_execute
from .jobs import job_cancel, job_clone, job_launch, job_retry, jobs_reap_stale

__all__ = [
    "artifact_register",
    "artifact_resolve",
    "job_cancel",
    "job_clone",
    "job_execute",
    "job_launch",
    "job_retry",
    "jobs_reap_stale",
]
