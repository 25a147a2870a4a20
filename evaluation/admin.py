"""Evaluation runs in the admin: read-only records (an ``evaluate`` job or human judgments write them), metrics
inline, links to the run's page. Runs are launched as ``evaluate`` jobs from the training admin's job form; the
changelist links there.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from training.admin.jobs import job_link_html, pretty_json

from .models import EvaluationRun, MetricValue

LAUNCH_URL_QUERY = "?kind=evaluate"


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # results are the record of what a model scored; the leaderboard reads them


class MetricInline(ReadOnlyMixin, admin.TabularInline):
    model = MetricValue
    fields = ["name", "value", "ci_low", "ci_high", "n", "higher_is_better", "metadata"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "suite", "model_link", "baseline_link", "status", "job_link", "created_at", "page_link"]
    list_display_links = ["id", "suite"]
    list_filter = ["suite", "status", "created_at"]
    list_select_related = ["model", "baseline", "job"]
    search_fields = ["=id", "suite", "model__name", "=model__id"]
    date_hierarchy = "created_at"
    inlines = [MetricInline]
    change_list_template = "evaluation/admin/change_list.html"
    fields = [
        "suite",
        "status",
        "model_link",
        "baseline_link",
        "job_link",
        "page_link",
        "annotation_project_id",
        "created_at",
        "finished_at",
        "config_json",
    ]
    readonly_fields = fields

    def view_on_site(self, obj: EvaluationRun) -> str:
        return reverse("evaluation:run-detail", args=[obj.pk])

    def changelist_view(self, request, extra_context=None):
        launch = reverse("admin:training_job_add") + LAUNCH_URL_QUERY
        context = {**(extra_context or {}), "launch_url": launch, "leaderboard_url": reverse("evaluation:leaderboard")}
        return super().changelist_view(request, extra_context=context)

    @admin.display(description="Model", ordering="model")
    def model_link(self, obj: EvaluationRun) -> str:
        return _model(obj.model)

    @admin.display(description="Baseline", ordering="baseline")
    def baseline_link(self, obj: EvaluationRun) -> str:
        return _model(obj.baseline) if obj.baseline_id else "—"

    @admin.display(description="Job", ordering="job")
    def job_link(self, obj: EvaluationRun) -> str:
        return job_link_html(obj)

    @admin.display(description="Page")
    def page_link(self, obj: EvaluationRun) -> str:
        return format_html('<a href="{}">open</a>', reverse("evaluation:run-detail", args=[obj.pk]))

    @admin.display(description="Config")
    def config_json(self, obj: EvaluationRun) -> str:
        return pretty_json(obj.config)


def _model(artifact) -> str:
    return format_html(
        '<a href="{}">#{} {}</a>', reverse("training:model-detail", args=[artifact.pk]), artifact.pk, artifact.name
    )
