"""Jobs in the admin: the list engineers filter, the launch form per kind, and cancel / retry / clone actions.

A job row is written by the job services and the worker only; its change page is read-only (the config a job ran
with is a record, not a draft) and links to the job's own page, where progress, charts and logs live. Metric points
are not registered: a long run has millions of them and the job page charts them instead.
"""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from webapp.api_errors import ApiError

from ..models import Job, JobStatus
from ..runners import KINDS
from ..services import job_cancel, job_clone, job_retry
from .launch import add_url, launch_view

STATUS_COLOURS = {
    JobStatus.QUEUED: "#5f6b7a",
    JobStatus.RUNNING: "#3b5bdb",
    JobStatus.SUCCEEDED: "#2b8a3e",
    JobStatus.FAILED: "#c92a2a",
    JobStatus.CANCELLED: "#c77c02",
}


class KindFilter(admin.SimpleListFilter):
    """Registered kinds plus any kind still present in the table (a runner may have been removed since)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = set(KINDS) | set(Job.objects.order_by().values_list("kind", flat=True).distinct())
        return [(k, k) for k in sorted(kinds)]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


def progress_bar(job: Job) -> str:
    # A succeeded job is done even when its runner's total was only an estimate.
    fraction = 1.0 if job.status == JobStatus.SUCCEEDED else job.fraction_done
    label = f"{job.progress_step:,}/{job.progress_total:,}" if job.progress_total else f"{job.progress_step:,}"
    return format_html(
        '<span style="display:inline-block;width:90px;height:8px;border-radius:4px;background:#e4e7ec;'
        'vertical-align:middle;overflow:hidden"><span style="display:block;height:100%;width:{}%;background:{}">'
        "</span></span> <small>{}</small>",
        f"{(fraction or 0) * 100:.1f}",
        STATUS_COLOURS.get(job.status, "#5f6b7a"),
        label,
    )


def pretty_json(value) -> str:
    return format_html(
        '<pre style="white-space:pre-wrap;margin:0;font-size:12px;max-height:420px;overflow:auto">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, default=str),
    )


def job_link_html(obj) -> str:
    """A link to the job page of ``obj.job`` (artifacts, evaluation runs), or a dash."""
    if obj.job_id is None:
        return "—"
    return format_html(
        '<a href="{}">{} #{}</a>', reverse("training:job-detail", args=[obj.job_id]), obj.job.kind, obj.job_id
    )


def artifact_links(artifacts) -> str:
    rows = [
        (reverse("training:artifact-detail", args=[a.pk]), f"#{a.pk} {a.kind}", a.name or a.path) for a in artifacts
    ]
    return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> {}', rows) or "—"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "name",
        "status_badge",
        "queue",
        "progress",
        "created",
        "created_by",
        "page_link",
    ]
    list_display_links = ["id", "kind"]
    list_filter = [KindFilter, "status", "queue", "created_at"]
    list_select_related = ["created_by"]
    search_fields = ["=id", "name", "kind", "worker_host", "error_message"]
    date_hierarchy = "created_at"
    actions = ["cancel_jobs", "retry_jobs", "clone_jobs"]
    fieldsets = [
        (None, {"fields": ["kind", "name", "status_badge", "page", "queue", "resources", "created_by", "source"]}),
        ("Progress", {"fields": ["progress", "progress_message", "attempt", "worker_host", "worker_pid"]}),
        ("Timing", {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at", "duration"]}),
        ("Config", {"fields": ["config_json"]}),
        ("Artifacts", {"fields": ["inputs_links", "outputs_links"]}),
        ("Outcome", {"fields": ["error_message", "traceback_text"]}),
        ("Result and reports", {"fields": ["result_json"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "kind",
        "name",
        "status_badge",
        "page",
        "queue",
        "resources",
        "created_by",
        "source",
        "progress",
        "progress_message",
        "attempt",
        "worker_host",
        "worker_pid",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
        "config_json",
        "inputs_links",
        "outputs_links",
        "error_message",
        "traceback_text",
        "result_json",
    ]

    # --- permissions: rows change only through services -------------------------------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # outputs keep pointing at their producing job; lineage must not lose its origin

    def has_launch_permission(self, request) -> bool:
        return self.has_add_permission(request)

    def view_on_site(self, obj: Job) -> str:
        return reverse("training:job-detail", args=[obj.pk])

    def add_view(self, request, form_url="", extra_context=None):
        return launch_view(self, request)

    def get_queryset(self, request) -> QuerySet[Job]:
        return super().get_queryset(request).prefetch_related("inputs", "outputs")

    # --- columns and read-only fields ---------------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Job) -> str:
        extra = " (cancel requested)" if obj.cancel_requested and not obj.is_finished else ""
        return format_html(
            '<b style="color:{}">{}</b>{}', STATUS_COLOURS.get(obj.status, "#5f6b7a"), obj.get_status_display(), extra
        )

    @admin.display(description="Progress", ordering="progress_step")
    def progress(self, obj: Job) -> str:
        return progress_bar(obj)

    @admin.display(description="Page")
    def page(self, obj: Job) -> str:
        links = [(reverse("training:job-detail", args=[obj.pk]), "job page")]
        links.append((add_url(clone=obj.pk), "clone with changes"))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Job) -> str:
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="Page")
    def page_link(self, obj: Job) -> str:
        return format_html('<a href="{}">open</a>', reverse("training:job-detail", args=[obj.pk]))

    @admin.display(description="Cloned from")
    def source(self, obj: Job) -> str:
        if obj.source_job_id is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>', reverse("training:job-detail", args=[obj.source_job_id]), obj.source_job_id
        )

    @admin.display(description="Duration")
    def duration(self, obj: Job) -> str:
        return str(obj.duration).split(".")[0] if obj.duration else "—"

    @admin.display(description="Config")
    def config_json(self, obj: Job) -> str:
        return pretty_json(obj.config)

    @admin.display(description="Result")
    def result_json(self, obj: Job) -> str:
        return pretty_json(obj.result) if obj.result else "—"

    @admin.display(description="Traceback")
    def traceback_text(self, obj: Job) -> str:
        if not obj.traceback:
            return "—"
        return format_html(
            '<pre style="white-space:pre-wrap;font-size:12px;max-height:420px;overflow:auto">{}</pre>', obj.traceback
        )

    @admin.display(description="Inputs")
    def inputs_links(self, obj: Job) -> str:
        return artifact_links(obj.inputs.all())

    @admin.display(description="Outputs")
    def outputs_links(self, obj: Job) -> str:
        return artifact_links(obj.outputs.all())

    # --- actions: each calls a service per job and reports per job ----------------------------------------------

    def _each(self, request, queryset, service, verb: str) -> None:
        done = []
        for job in queryset.order_by("pk"):
            try:
                result = service(job)
            except ApiError as exc:
                self.message_user(request, f"{job}: {exc.detail}", messages.WARNING)
                continue
            done.append(result)
        if done:
            links = format_html_join(
                ", ", '<a href="{}">#{}</a>', [(reverse("training:job-detail", args=[j.pk]), j.pk) for j in done]
            )
            self.message_user(request, format_html("{} {}.", verb, links), messages.SUCCESS)

    @admin.action(description="Cancel the selected jobs", permissions=["launch"])
    def cancel_jobs(self, request, queryset):
        self._each(request, queryset, lambda job: job_cancel(job=job), "Cancelled (running jobs stop within seconds)")

    @admin.action(description="Retry / resume the selected jobs", permissions=["launch"])
    def retry_jobs(self, request, queryset):
        self._each(request, queryset, lambda job: job_retry(job=job), "Requeued (resuming from the last checkpoint)")

    @admin.action(description="Clone the selected jobs (same config)", permissions=["launch"])
    def clone_jobs(self, request, queryset):
        self._each(request, queryset, lambda job: job_clone(job=job, created_by=request.user), "Launched clones")
