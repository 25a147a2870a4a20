"""The job list and the job page. The page renders the job's state once; ``job.js`` keeps it live from the API."""

import json

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from ..forms import JobFilterForm
from ..models import Job, JobStatus
from ..selectors.jobs import job_payload, jobs_list
from .assets import plotly_url
from .common import artifact_row, bar_percent, human_duration, staff_required
from .reports import render_value, report_sections

PAGE_SIZE = 50


@require_GET
@staff_required
def job_list(request: HttpRequest) -> HttpResponse:
    form = JobFilterForm(request.GET)
    form.is_valid()  # an invalid value is shown as an error; the valid filters still apply
    filters = {k: v for k, v in form.cleaned_data.items() if v}
    jobs = jobs_list(**filters)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = dict(
        jobs_list(**{k: v for k, v in filters.items() if k != "status"})
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [{"job": job, "percent": bar_percent(job)} for job in page],
        "status_counts": [(s.value, s.label, counts.get(s.value, 0)) for s in JobStatus],
        "query": query.urlencode(),
        "filters": filters,
        "compare_url": reverse("training:tokenizer-compare"),
    }
    return render(request, "training/job_list.html", context)


@require_GET
@staff_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("created_by", "source_job"), pk=job_id)
    payload = job_payload(job)
    result = job.result or {}
    api = {
        name: reverse(f"training-api:job-{name}", args=[job.pk])
        for name in ("detail", "metrics", "cancel", "retry", "clone")
    }
    context = {
        "job": job,
        "payload": payload,
        "page_config": {
            "id": job.pk,
            "status": job.status,
            "finished": job.is_finished,
            "api": api,
            "jobUrlTemplate": reverse("training:job-detail", args=[0]).replace("/0/", "/{id}/"),
        },
        "percent": bar_percent(job),
        "eta": human_duration(payload["progress"]["eta_seconds"]),
        "duration": human_duration(payload["duration_seconds"]),
        "config_json": json.dumps(job.config, indent=2, ensure_ascii=False),
        "summary_html": render_value(result["summary"]) if result.get("summary") else "",
        "sections": report_sections(result.get("reports") or {}),
        "inputs": [artifact_row(a) for a in job.inputs.all()],
        "outputs": [artifact_row(a) for a in job.outputs.all()],
        "has_log_file": (job.folder / "run.log").is_file(),
        "plotly_url": plotly_url(),
        "clone_admin_url": reverse("admin:training_job_add") + f"?clone={job.pk}",
        "compare_url": reverse("training:tokenizer-compare") + f"?ids={job.pk}",
    }
    return render(request, "training/job_detail.html", context)


@require_GET
@staff_required
def job_log(request: HttpRequest, job_id: int) -> HttpResponse:
    """The full log file (the page shows only the tail kept in the database)."""
    job = get_object_or_404(Job, pk=job_id)
    path = job.folder / "run.log"
    if not path.is_file():
        raise Http404("This job has no log file yet.")
    return FileResponse(path.open("rb"), content_type="text/plain; charset=utf-8")
