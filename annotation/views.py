"""HTML pages for annotators, reviewers and engineers; thin, data comes from selectors.

Pages are shells: the comparison, demonstration and review pages fetch their work from the JSON API (/api/v1/) with
the session and a CSRF header, so the browser and scripts exercise the same code path. Two small JSON helpers live
here because they exist only for the pages: the annotator's progress and the markdown preview.
"""

import orjson
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from webapp.api_errors import Forbidden, NotFound

from .access import can_manage, can_review, project_for, role_in
from .models import Project
from .rendering import render_markdown
from .selectors.progress import progress_for
from .selectors.projects import projects_for
from .selectors.quality import project_quality
from .selectors.stats import project_stats

PREVIEW_MAX_CHARS = 200_000


def _project(request: HttpRequest, project_id: int, need: str = "annotate") -> Project:
    """The API's access rules, raised as the page equivalents (404 for non-members, 403 for too low a role)."""
    try:
        return project_for(request.user, project_id, need=need)
    except NotFound as exc:
        raise Http404(str(exc.detail)) from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc.detail)) from None


def _guidelines_html(project: Project) -> str:
    # render_markdown escapes raw HTML and sanitizes the result, so marking it safe cannot inject markup.
    return mark_safe(render_markdown(project.guidelines))


def _page_context(request: HttpRequest, project: Project, kind: str) -> dict:
    if kind not in project.task_kinds:
        raise Http404(f"This project has no {kind} tasks.")
    progress = progress_for(user=request.user, project_ids=[project.pk])[project.pk][kind]
    config = {
        "project": project.pk,
        "kind": kind,
        "k": project.responses_per_comparison,
        "criteria": project.criteria,
        "criteriaMode": project.criteria_mode,
        "tiesAllowed": project.ties_allowed,
        "progress": progress,
    }
    return {
        "project": project,
        "progress": progress,
        "config": config,
        "guidelines_html": _guidelines_html(project),
        "can_review": can_review(request.user, project),
        "can_manage": can_manage(request.user, project),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    projects = list(projects_for(request.user).order_by("name"))
    progress = progress_for(user=request.user, project_ids=[p.pk for p in projects])
    rows = [
        {
            "project": p,
            "role": role_in(request.user, p),
            "kinds": [(kind, progress[p.pk][kind]) for kind in p.task_kinds if kind in progress[p.pk]],
            "guidelines_html": _guidelines_html(p),
            "can_review": can_review(request.user, p),
            "can_manage": can_manage(request.user, p),
        }
        for p in projects
    ]
    return render(request, "annotation/home.html", {"rows": rows})


@login_required
def compare(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    return render(request, "annotation/compare.html", _page_context(request, project, "comparison"))


@login_required
def demonstrate(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    return render(request, "annotation/demonstrate.html", _page_context(request, project, "demonstration"))


@login_required
def review(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, need="review")
    context = {"project": project, "config": {"project": project.pk}, "can_manage": can_manage(request.user, project)}
    return render(request, "annotation/review.html", context)


@login_required
def quality(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, need="manage")
    stats = project_stats(project=project)
    task_rows = []
    for kind, counts in sorted(stats["tasks"].items()):
        total = counts["total"] or 1
        task_rows.append(
            {
                "kind": kind,
                **counts,
                "segments": [(state, counts[state], 100 * counts[state] / total) for state in ("done", "full", "open")],
            }
        )
    quality_report = project_quality(project=project)
    people: dict[str, dict] = {row["username"]: {**row} for row in quality_report["annotators"]}
    for row in stats["annotators"]:
        people.setdefault(row["username"], {"username": row["username"], "judgments": 0}).update(row)
    context = {
        "project": project,
        "quality": quality_report,
        "stats": stats,
        "task_rows": task_rows,
        "annotators": sorted(people.values(), key=lambda row: row["username"]),
        "can_review": True,
        "can_manage": True,
    }
    return render(request, "annotation/quality.html", context)


@login_required
@require_GET
def progress(request: HttpRequest, project_id: int) -> JsonResponse:
    project = _project(request, project_id)
    kind = request.GET.get("kind", "comparison")
    counts = progress_for(user=request.user, project_ids=[project.pk])[project.pk]
    if kind not in counts:
        return JsonResponse(
            {"detail": 'kind must be "comparison" or "demonstration".', "code": "invalid_kind"}, status=400
        )
    return JsonResponse(counts[kind])


@login_required
@require_POST
def markdown_preview(request: HttpRequest) -> JsonResponse:
    """Server-side preview, so the editor shows exactly what reviewers and the comparison page will render."""
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return JsonResponse({"detail": "Send a JSON object.", "code": "invalid_json"}, status=400)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return JsonResponse({"detail": "text must be a string.", "code": "invalid_text"}, status=400)
    if len(text) > PREVIEW_MAX_CHARS:
        return JsonResponse({"detail": "text is too long to preview.", "code": "too_long"}, status=400)
    return JsonResponse({"html": render_markdown(text)})
