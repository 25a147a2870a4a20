"""Projects and their members; the JSONL import view and the freeze / export actions.

Saving goes through the services: ``project_create`` / ``project_update`` keep task states in step with a changed
overlap, ``membership_set`` validates roles, ``prompts_import`` writes all or nothing, ``snapshot_freeze`` hashes the
rows the same way the API does.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from webapp.api_errors import ApiError

from ..forms import ImportPromptsForm, PreferenceFreezeForm, ProjectAdminForm, SftFreezeForm
from ..models import DatasetSnapshot, Judgment, Membership, Project, Prompt, Task
from ..services import membership_set, project_create, project_update, prompts_import
from ..services import snapshot_freeze as freeze
from ..services.imports import bounded_lines
from ..services.projects import EDITABLE_FIELDS
from .base import count_per


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
                prompt_count=count_per(Prompt, "project"),
                task_count=count_per(Task, "project"),
                judgment_count=count_per(Judgment, "task__project"),
                member_count=count_per(Membership, "project"),
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
