"""What every job page shares: staff-only access and small display helpers."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from ..models import Artifact, Job, JobStatus


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first (a redirect), then 403 for non-staff: jobs and artifacts are the engineers' business, as in
    the API."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Jobs and artifacts are for staff (engineers).")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def bar_percent(job: Job) -> float:
    """How full the progress bar is: a succeeded job is done even when its runner's total was an estimate."""
    if job.status == JobStatus.SUCCEEDED:
        return 100.0
    return (job.fraction_done or 0) * 100


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def artifact_row(artifact: Artifact) -> dict:
    return {
        "artifact": artifact,
        "short_sha": artifact.sha256[:12],
        "is_folder": artifact.absolute_path.is_dir(),
        "exists": artifact.absolute_path.exists(),
    }
