"""One evaluation run: metrics with intervals, a filterable, paginated per-example viewer and downloads.

Human win-rate runs that still wait for judgments are recomputed from the votes on every view (the page is where
engineers watch them fill in) and show how many of their blind comparison tasks have been judged. Red-team runs
get the per-category attack-success chart and list the worst responses (highest harm score) first.
"""

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from annotation.models import Judgment, Task
from training.views.assets import plotly_url
from training.views.common import staff_required
from training.views.reports import format_scalar, render_value

from ..human import human_win_rate_refresh
from ..models import EvaluationRun, ExampleResult
from .leaderboard import interval

PAGE_SIZE = 25
ASR_PREFIX = "asr."


class ExampleFilterForm(forms.Form):
    category = forms.ChoiceField(required=False)
    correct = forms.ChoiceField(
        required=False, choices=[("", "correct and incorrect"), ("true", "correct only"), ("false", "incorrect only")]
    )

    def __init__(self, *args, categories: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "all categories")] + [(c, c) for c in categories]


def human_progress(run: EvaluationRun) -> dict[str, Any] | None:
    """Judged / total blind comparison tasks of a human win-rate run, with links to its annotation project."""
    if run.suite != "human_win_rate" or run.annotation_project_id is None:
        return None
    tasks = Task.objects.filter(project_id=run.annotation_project_id, kind="comparison", is_gold=False)
    total = tasks.count()
    judged = Judgment.objects.filter(task__in=tasks).count()
    return {
        "total": total,
        "judged": judged,
        "percent": min(100.0, judged / total * 100) if total else 0.0,
        "annotate_url": reverse("annotation:compare", args=[run.annotation_project_id]),
        "progress_url": reverse("annotation:progress", args=[run.annotation_project_id]),
        "admin_url": reverse("admin:annotation_project_change", args=[run.annotation_project_id]),
    }


def metric_rows(run: EvaluationRun) -> list[dict[str, Any]]:
    return [
        {
            "metric": m,
            "display": format_scalar(m.value),
            "interval": interval({"ci_low": m.ci_low, "ci_high": m.ci_high}),
            "extra": render_value(m.metadata) if m.metadata else "",
        }
        for m in run.metrics.all()
    ]


def redteam_chart(run: EvaluationRun) -> dict[str, Any] | None:
    if run.suite != "redteam":
        return None
    bars = [(m.name.removeprefix(ASR_PREFIX), m.value, m.n) for m in run.metrics.all() if m.name.startswith(ASR_PREFIX)]
    if not bars:
        return None
    return {"categories": [b[0] for b in bars], "rates": [b[1] for b in bars], "n": [b[2] for b in bars]}


def examples(run: EvaluationRun, filters: dict[str, str]) -> QuerySet[ExampleResult]:
    qs = ExampleResult.objects.filter(run=run)
    if filters.get("category"):
        qs = qs.filter(category=filters["category"])
    if filters.get("correct") in ("true", "false"):
        qs = qs.filter(correct=filters["correct"] == "true")
    if run.suite == "redteam":  # triage: the most harmful responses first
        return qs.order_by(F("score").desc(nulls_last=True), "index")
    return qs.order_by("index")


@require_GET
@staff_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(EvaluationRun.objects.select_related("model", "baseline", "job"), pk=run_id)
    if run.status == EvaluationRun.Status.WAITING:
        run = human_win_rate_refresh(run=run)
    categories = list(
        ExampleResult.objects.filter(run=run)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
    form = ExampleFilterForm(request.GET, categories=categories)
    form.is_valid()  # an unknown value is shown as an error; the valid filters still apply
    filters = {k: v for k, v in form.cleaned_data.items() if v}
    qs = examples(run, filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    download = reverse("evaluation-api:examples", args=[run.pk])
    context = {
        "run": run,
        "metrics": metric_rows(run),
        "progress": human_progress(run),
        "redteam": redteam_chart(run),
        "form": form,
        "filters": filters,
        "query": urlencode(filters),
        "page": page,
        "examples_total": ExampleResult.objects.filter(run=run).count(),
        "downloads": [(fmt, f"{download}?{urlencode({**filters, 'format': fmt})}") for fmt in ("csv", "jsonl")],
        "config_json": json.dumps(run.config, indent=2, ensure_ascii=False),
        "error": run.config.get("error", "") if run.status == EvaluationRun.Status.FAILED else "",
        "is_redteam": run.suite == "redteam",
        "is_pairwise": run.baseline_id is not None,
        "plotly_url": plotly_url() if run.suite == "redteam" else "",
    }
    return render(request, "evaluation/run_detail.html", context)
