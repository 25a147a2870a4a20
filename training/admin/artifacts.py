"""The artifact registry in the admin: read-only, since rows are registered by jobs with their size and sha256.

An artifact's lineage (parents, recursively) is drawn on its page under /jobs/artifacts/; the admin links there.
The one action, "Merge and export", launches a ``merge_adapter`` job per selected adapter: the merged full model is
registered by that job like any other output.
"""

from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from webapp.api_errors import ApiError

from ..models import Artifact
from ..services import job_launch
from .jobs import job_link_html, pretty_json


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "name",
        "size",
        "file_count",
        "short_sha",
        "producing_job",
        "parent_links",
        "created_at",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["job"]
    search_fields = ["=id", "name", "path", "sha256"]
    fields = [
        "kind",
        "name",
        "path",
        "size",
        "file_count",
        "sha256",
        "producing_job",
        "parent_links",
        "page",
        "metadata_json",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["merge_and_export"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # jobs name their inputs by artifact id; a deleted row would orphan their configs

    def has_launch_permission(self, request) -> bool:
        return request.user.has_perm("training.add_job")

    def view_on_site(self, obj: Artifact) -> str:
        page = "training:model-detail" if obj.kind in (Artifact.Kind.MODEL, Artifact.Kind.ADAPTER) else None
        return reverse(page or "training:artifact-detail", args=[obj.pk])

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parents")

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: Artifact) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="sha256", ordering="sha256")
    def short_sha(self, obj: Artifact) -> str:
        return format_html('<code title="{}">{}</code>', obj.sha256, obj.sha256[:12])

    @admin.display(description="Job", ordering="job")
    def producing_job(self, obj: Artifact) -> str:
        return job_link_html(obj)

    @admin.display(description="Parents")
    def parent_links(self, obj: Artifact) -> str:
        rows = [(reverse("training:artifact-detail", args=[p.pk]), p.pk, p.kind) for p in obj.parents.all()]
        return format_html_join(", ", '<a href="{}">#{} {}</a>', rows) or "—"

    @admin.display(description="Page")
    def page(self, obj: Artifact) -> str:
        return format_html('<a href="{}">lineage and files</a>', reverse("training:artifact-detail", args=[obj.pk]))

    @admin.display(description="Metadata")
    def metadata_json(self, obj: Artifact) -> str:
        return pretty_json(obj.metadata) if obj.metadata else "—"

    @admin.action(description="Merge and export the selected adapters (full model)", permissions=["launch"])
    def merge_and_export(self, request, queryset):
        launched = []
        for artifact in queryset.order_by("pk"):
            if artifact.kind != Artifact.Kind.ADAPTER:
                self.message_user(
                    request, f"#{artifact.pk} is a {artifact.kind}, not an adapter: skipped.", messages.WARNING
                )
                continue
            try:
                job = job_launch(kind="merge_adapter", config={"adapter": str(artifact.pk)}, created_by=request.user)
            except ApiError as exc:
                self.message_user(request, f"#{artifact.pk}: {exc.detail}", messages.ERROR)
                continue
            launched.append((reverse("training:job-detail", args=[job.pk]), job.pk, artifact.pk))
        if launched:
            links = format_html_join(", ", '<a href="{}">merge_adapter #{}</a> (adapter #{})', launched)
            self.message_user(request, format_html("Launched {}.", links), messages.SUCCESS)
