"""The record of work and data: prompts, responses, tasks, judgments, demonstrations, dataset snapshots.

Prompts and responses arrive by import; tasks and judgments are what annotators did; snapshots are what training
runs cite. None of them is added or edited by hand here. Demonstrations are reviewed through
``demonstration_review``, so the reviewer and time are recorded as on the review page.
"""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from webapp.api_errors import ApiError

from ..forms import RejectDemonstrationsForm
from ..models import Assignment, DatasetSnapshot, Demonstration, Judgment, Project, Prompt, Response, Task
from ..services import demonstration_review
from .base import ReadOnlyAdmin, ReadOnlyInline, count_per, shorten


class ResponseInline(ReadOnlyInline):
    model = Response
    fields = ["text", "source", "model_name", "model_version"]


@admin.register(Prompt)
class PromptAdmin(ReadOnlyAdmin):
    list_display = ["id", "excerpt", "project", "split", "external_id", "is_conversation", "response_count"]
    list_filter = ["split", "project", "is_conversation"]
    list_select_related = ["project"]
    search_fields = ["external_id", "messages"]
    inlines = [ResponseInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(response_count=count_per(Response, "prompt"))

    @admin.display(description="Prompt")
    def excerpt(self, obj: Prompt) -> str:
        return shorten(obj.text)

    @admin.display(description="Responses", ordering="response_count")
    def response_count(self, obj: Prompt) -> int:
        return obj.response_count


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ["id", "excerpt", "prompt_id", "project", "source", "model_name", "model_version", "created_at"]
    list_filter = ["source", "prompt__project"]
    list_select_related = ["prompt__project"]
    search_fields = ["text", "model_name", "model_version"]

    @admin.display(description="Response")
    def excerpt(self, obj: Response) -> str:
        return shorten(obj.text)

    @admin.display(description="Project", ordering="prompt__project")
    def project(self, obj: Response) -> Project:
        return obj.prompt.project


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["annotator", "status", "is_gold", "display_order", "expires_at", "finished_at"]
    show_change_link = False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "kind", "state", "assigned_count", "completed_count", "is_gold", "prompt_excerpt"]
    list_filter = ["kind", "state", "is_gold", "project"]
    list_select_related = ["project", "prompt"]
    search_fields = ["prompt__external_id"]
    inlines = [AssignmentInline]

    @admin.display(description="Prompt")
    def prompt_excerpt(self, obj: Task) -> str:
        return shorten(obj.prompt.text, 60)


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "project", "annotator", "ranking", "strength", "is_gold", "flags", "created_at"]
    list_filter = ["is_gold", "strength", "task__project", ("annotator", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["task__project", "annotator"]
    search_fields = ["annotator__username", "rationale"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # consensus and agreement are computed from these; removing one needs a service

    @admin.display(description="Project", ordering="task__project")
    def project(self, obj: Judgment) -> Project:
        return obj.task.project


@admin.register(Demonstration)
class DemonstrationAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "project", "annotator", "excerpt", "review_status", "reviewer", "created_at"]
    list_filter = ["review_status", "task__project"]
    list_select_related = ["task__project", "annotator", "reviewer"]
    search_fields = ["annotator__username", "text"]
    actions = ["accept", "reject"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_review_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    @admin.display(description="Project", ordering="task__project")
    def project(self, obj: Demonstration) -> Project:
        return obj.task.project

    @admin.display(description="Demonstration")
    def excerpt(self, obj: Demonstration) -> str:
        return shorten(obj.text)

    @admin.action(description="Accept the selected demonstrations", permissions=["review"])
    def accept(self, request, queryset):
        self._review(request, queryset, "accepted", "")

    @admin.action(description="Reject the selected demonstrations (with a comment)", permissions=["review"])
    def reject(self, request, queryset):
        form = RejectDemonstrationsForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._review(request, queryset, "rejected", form.cleaned_data["comment"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject demonstrations",
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action": "reject",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/annotation/demonstration/reject.html", context)

    def _review(self, request, queryset, decision: str, comment: str) -> None:
        done = 0
        for demonstration_id in queryset.values_list("pk", flat=True):
            try:
                demonstration_review(
                    demonstration_id=demonstration_id, reviewer=request.user, decision=decision, comment=comment
                )
            except ApiError as exc:
                self.message_user(request, f"Demonstration {demonstration_id}: {exc.detail}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{decision.capitalize()} {done} demonstration(s).", messages.SUCCESS)


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(ReadOnlyAdmin):
    """Immutable: rows and hash are what training runs cite, so nothing here edits or deletes them."""

    list_display = ["id", "project", "kind", "row_count", "short_sha", "size_bytes", "created_by", "created_at", "rows"]
    list_filter = ["kind", "project"]
    list_select_related = ["project", "created_by"]
    search_fields = ["sha256"]
    fields = [
        "project",
        "kind",
        "filters",
        "row_count",
        "sha256",
        "size_bytes",
        "path",
        "rows",
        "manifest_json",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="sha256")
    def short_sha(self, obj: DatasetSnapshot) -> str:
        return obj.sha256[:16]

    @admin.display(description="Rows file")
    def rows(self, obj: DatasetSnapshot) -> str:
        return format_html(
            '<a href="{}">download (JSONL)</a>', reverse("annotation-api:snapshot-download", args=[obj.pk])
        )

    @admin.display(description="Manifest")
    def manifest_json(self, obj: DatasetSnapshot) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, indent=2, sort_keys=True))
