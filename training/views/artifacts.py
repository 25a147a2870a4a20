"""An artifact's page (metadata, files, lineage) and downloads of its files."""

import json
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from ..models import Artifact
from ..selectors.jobs import artifact_lineage
from .common import artifact_row, staff_required
from .downloads import folder_files, resolve_inside, zip_stream

FILE_LIST_LIMIT = 300


def _node(payload: dict[str, Any]) -> SafeString:
    return format_html(
        '<a href="{}">#{} {}</a> <span class="muted">{}{}</span>',
        reverse("training:artifact-detail", args=[payload["id"]]),
        payload["id"],
        payload["kind"],
        payload["name"] or payload["path"],
        format_html(
            ' · from <a href="{}">job #{}</a>', reverse("training:job-detail", args=[payload["job"]]), payload["job"]
        )
        if payload["job"]
        else "",
    )


def lineage_tree(root: dict[str, Any], edges: list[dict[str, Any]]) -> SafeString:
    """Ancestors as nested lists; an ancestor reached twice (a diamond) is expanded once and referenced after."""
    parents: dict[int, list[dict]] = {}
    for edge in edges:
        parents.setdefault(edge["child"]["id"], []).append(edge["parent"])
    expanded: set[int] = set()

    def branch(node_id: int, trail: tuple[int, ...]) -> SafeString:
        items = []
        for parent in parents.get(node_id, []):
            if parent["id"] in trail or parent["id"] in expanded:
                items.append((_node(parent), mark_safe(' <span class="muted small">(shown above)</span>')))
                continue
            expanded.add(parent["id"])
            items.append((_node(parent), branch(parent["id"], (*trail, parent["id"]))))
        if not items:
            return mark_safe("")
        return format_html('<ul class="lineage">{}</ul>', format_html_join("", "<li>{}{}</li>", items))

    return branch(root["id"], (root["id"],))


@require_GET
@staff_required
def artifact_detail(request: HttpRequest, artifact_id: int) -> HttpResponse:
    artifact = get_object_or_404(Artifact.objects.select_related("job"), pk=artifact_id)
    edges = artifact_lineage(artifact)
    base = resolve_inside(artifact.absolute_path)
    files = []
    if base is not None and base.is_dir():
        for path in folder_files(base, limit=FILE_LIST_LIMIT + 1):
            files.append({"path": str(path.relative_to(base)), "size": path.stat().st_size})
    context = {
        "artifact": artifact,
        "row": artifact_row(artifact),
        "lineage_html": lineage_tree({"id": artifact.pk}, edges),
        "has_parents": bool(edges),
        "children": artifact.children.select_related("job").order_by("pk"),
        "consumers": artifact.consumers.order_by("pk"),
        "files": files[:FILE_LIST_LIMIT],
        "files_truncated": len(files) > FILE_LIST_LIMIT,
        "metadata_json": json.dumps(artifact.metadata, indent=2, ensure_ascii=False) if artifact.metadata else "",
    }
    return render(request, "training/artifact_detail.html", context)


@require_GET
@staff_required
def artifact_download(request: HttpRequest, artifact_id: int) -> HttpResponse:
    """``?path=`` names a file (or sub-folder) inside the artifact; without it the whole artifact is sent."""
    artifact = get_object_or_404(Artifact, pk=artifact_id)
    relative = request.GET.get("path", "")
    target = resolve_inside(artifact.absolute_path, relative)
    if target is None:
        raise Http404("No such file in this artifact.")
    if target.is_file():
        return FileResponse(target.open("rb"), as_attachment=True, filename=target.name)
    if not target.is_dir():
        raise Http404("The artifact's files are missing on this host (is ARTIFACTS_ROOT mounted?).")
    name = f"artifact-{artifact.pk}-{artifact.kind}" + (f"-{target.name}" if relative else "")
    response = StreamingHttpResponse(zip_stream(target), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{name}.zip")
    return response
