"""The engineers' admin: projects and members, prompts, responses, tasks, judgments, demonstrations, snapshots.

Every change goes through ``annotation.services``: ``project_create`` / ``project_update`` keep task states in step
with a changed overlap, ``prompts_import`` writes a JSONL file all or nothing, ``snapshot_freeze`` hashes rows the
same way the API does, ``demonstration_review`` records who reviewed. Rows that record annotators' work (tasks,
judgments) or a frozen dataset are read-only here; prompts and responses arrive by import, not by hand.
"""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from webapp.api_errors import ApiError

from .api.projects import _bounded_lines as bounded_lines
from .forms import (
    ImportPromptsForm,
    PreferenceFreezeForm,
    ProjectAdminForm,
    RejectDemonstrationsForm,
    SftFreezeForm,
)
from .models import (
    Assignment,
    DatasetSnapshot,
    Demonstration,
    Judgment,
    Membership,
    Project,
    Prompt,
    Response,
    Task,
)
from .services import demonstration_review, membership_set, project_create, project_update, prompts_import
from .services import snapshot_freeze as freeze
from .services.projects import EDITABLE_FIELDS


def _excerpt(text: str, chars: int = 80) -> str:
    return Truncator(" ".join(text.split())).chars(chars)


def _count(model, link: str):
    """Rows of ``model`` per project as a correlated subquery: one cheap count per listed project, no fan-out."""
    rows = model.objects.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n")), 0)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff, never added or edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    inlines = [MembershipInline]
    list_display = [
        "name",
        "kinds",
        "responses_per_comparison",
        "overlap",
        "prompt_count",
        "task_count",
        "judgment_count",
        "member_count",
        "created_at",
        "tools",
    ]
    search_fields = ["name"]
    readonly_fields = ["created_by", "created_at"]
    actions = ["import_jsonl", "freeze_preferences", "freeze_sft", "export_preferences"]
    fieldsets = [
        (None, {"fields": ["name", "guidelines", "task_kinds", "criteria", "criteria_mode", "ties_allowed"]}),
        (
            "Serving",
            {"fields": ["responses_per_comparison", "overlap", "demonstration_overlap", "gold_ratio", "lease_seconds"]},
        ),
        ("Data", {"fields": ["split_ratios", "created_by", "created_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                prompt_count=_count(Prompt, "project"),
                task_count=_count(Task, "project"),
                judgment_count=_count(Judgment, "task__project"),
                member_count=_count(Membership, "project"),
            )
        )

    @admin.display(description="Task kinds")
    def kinds(self, obj: Project) -> str:
        return ", ".join(obj.task_kinds)

    @admin.display(description="Prompts", ordering="prompt_count")
    def prompt_count(self, obj: Project) -> int:
        return obj.prompt_count

    @admin.display(description="Tasks", ordering="task_count")
    def task_count(self, obj: Project) -> int:
        return obj.task_count

    @admin.display(description="Judgments", ordering="judgment_count")
    def judgment_count(self, obj: Project) -> int:
        return obj.judgment_count

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Project) -> int:
        return obj.member_count

    @admin.display(description="Tools")
    def tools(self, obj: Project) -> str:
        return format_html_join(" · ", '<a href="{}">{}</a>', project_links(obj))

    # --- saving goes through the services ------------------------------------------------------------------------

    def save_model(self, request, obj: Project, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        saved = project_update(project=obj, **fields) if change else project_create(created_by=request.user, **fields)
        # The admin keeps using ``obj`` (inline formsets are bound to it), so it takes the saved row's state.
        for field in Project._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            membership.delete()
        for membership, changed in formset.changed_objects:
            if "user" in changed:  # the row now names someone else: the old member leaves
                Membership.objects.filter(pk=membership.pk).delete()
        for membership in [*formset.new_objects, *(m for m, _ in formset.changed_objects)]:
            membership_set(project=form.instance, username=membership.user.get_username(), role=membership.role)

    # --- JSONL import ----------------------------------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="annotation_project_import",
            ),
        ]
        return custom + super().get_urls()

    def import_view(self, request, object_id: str):
        project = self.get_object(request, object_id)
        if project is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        form = ImportPromptsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                summary = prompts_import(project=project, lines=bounded_lines(form.cleaned_data["file"]))
            except ApiError as exc:  # nothing was written; the message names the bad line
                form.add_error("file", str(exc.detail))
            else:
                counts = ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in summary.as_dict().items())
                self.log_change(request, project, f"Imported JSONL ({counts}).")
                self.message_user(request, f"Imported into {project}: {counts}.", messages.SUCCESS)
                return redirect("admin:annotation_project_change", project.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import JSONL into {project}",
            "opts": self.opts,
            "original": project,
            "form": form,
        }
        return TemplateResponse(request, "admin/annotation/project/import_prompts.html", context)

    # --- actions ----------------------------------------------------------------------------------------------------

    @admin.action(description="Import JSONL into the selected project", permissions=["change"])
    def import_jsonl(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one project to import into.", messages.WARNING)
            return None
        return redirect("admin:annotation_project_import", queryset.get().pk)

    @admin.action(description="Export preferences (JSONL)", permissions=["view"])
    def export_preferences(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one project to export.", messages.WARNING)
            return None
        return redirect(preferences_url(queryset.get()))

    @admin.action(description="Freeze preference snapshot", permissions=["change"])
    def freeze_preferences(self, request, queryset):
        return self._freeze(request, queryset, "preferences", PreferenceFreezeForm)

    @admin.action(description="Freeze SFT snapshot", permissions=["change"])
    def freeze_sft(self, request, queryset):
        return self._freeze(request, queryset, "sft", SftFreezeForm)

    def _freeze(self, request, queryset, kind: str, form_class):
        """First show the filters; on confirmation freeze one snapshot per selected project."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for project in queryset:
                try:
                    snapshot, created = freeze(
                        project=project, kind=kind, filters=form.filters(), created_by=request.user
                    )
                except ApiError as exc:
                    self.message_user(request, f"{project}: {exc.detail}", messages.ERROR)
                    continue
                self.message_user(request, snapshot_message(snapshot, created), messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Freeze {'a preference' if kind == 'preferences' else 'an SFT'} snapshot",
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/annotation/project/freeze_snapshot.html", context)


def preferences_url(project: Project) -> str:
    return reverse("annotation-api:export-preferences", args=[project.pk]) + "?format=jsonl"


def project_links(project: Project) -> list[tuple[str, str]]:
    return [
        (reverse("admin:annotation_project_import", args=[project.pk]), "Import JSONL"),
        (preferences_url(project), "Export preferences"),
        (reverse("annotation-api:export-sft", args=[project.pk]) + "?format=jsonl", "Export SFT"),
        (reverse("annotation-api:project-stats", args=[project.pk]), "Stats"),
    ]


def snapshot_message(snapshot: DatasetSnapshot, created: bool) -> str:
    state = "Froze" if created else "Unchanged data; reusing"
    return format_html(
        '{} {} snapshot <a href="{}">#{}</a> of {}: {} rows, sha256 {}',
        state,
        snapshot.kind,
        reverse("admin:annotation_datasetsnapshot_change", args=[snapshot.pk]),
        snapshot.pk,
        snapshot.project,
        snapshot.row_count,
        snapshot.sha256,
    )


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
        return super().get_queryset(request).annotate(response_count=_count(Response, "prompt"))

    @admin.display(description="Prompt")
    def excerpt(self, obj: Prompt) -> str:
        return _excerpt(obj.text)

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
        return _excerpt(obj.text)

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
        return _excerpt(obj.prompt.text, 60)


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
        return _excerpt(obj.text)

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
