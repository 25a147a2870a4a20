"""Two model versions side by side: their metrics per suite (the latest run of each), and, where both runs scored
the same inputs, the examples aligned with both outputs and scores — the rows where they disagree first."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from training.models import Artifact
from training.views.common import staff_required
from training.views.lineage_graph import MODEL_KINDS
from training.views.reports import format_scalar

from ..models import EvaluationRun, ExampleResult

SHOWN_EXAMPLES = 50
MAX_ALIGNED = 5000  # rows read per run for alignment; larger suites are compared on their first rows
EXAMPLE_FIELDS = ("index", "category", "input", "output", "reference", "score", "correct")
PICKER_LIMIT = 500


def pick_model(request: HttpRequest, key: str) -> tuple[Artifact | None, str]:
    raw = request.GET.get(key, "").strip()
    if not raw:
        return None, ""
    if not raw.isdigit():
        return None, f"{key} must be a model version id (a number), not {raw!r}."
    model = Artifact.objects.filter(pk=int(raw), kind__in=MODEL_KINDS).first()
    return (model, "") if model else (None, f"There is no model version #{raw}.")


def latest_runs(model: Artifact) -> dict[str, EvaluationRun]:
    runs = (
        EvaluationRun.objects.filter(
            model=model, status__in=[EvaluationRun.Status.COMPLETE, EvaluationRun.Status.WAITING]
        )
        .prefetch_related("metrics")
        .order_by("-id")
    )
    out: dict[str, EvaluationRun] = {}
    for run in runs:
        out.setdefault(run.suite, run)
    return out


def metric_rows(run_a: EvaluationRun | None, run_b: EvaluationRun | None) -> list[dict[str, Any]]:
    a = {m.name: m for m in run_a.metrics.all()} if run_a else {}
    b = {m.name: m for m in run_b.metrics.all()} if run_b else {}
    rows = []
    for name in list(a) + [n for n in b if n not in a]:
        ma, mb = a.get(name), b.get(name)
        higher = (ma or mb).higher_is_better
        better = ""
        if ma and mb and ma.value != mb.value:
            better = "a" if (ma.value > mb.value) == higher else "b"
        rows.append(
            {
                "name": name,
                "higher_is_better": higher,
                "a": _cell(ma),
                "b": _cell(mb),
                "delta": format_scalar(mb.value - ma.value) if ma and mb else "",
                "better": better,
            }
        )
    return rows


def _cell(metric) -> dict[str, Any] | None:
    if metric is None:
        return None
    ci = (
        f"[{format_scalar(metric.ci_low)}, {format_scalar(metric.ci_high)}]"
        if metric.ci_low is not None and metric.ci_high is not None
        else ""
    )
    return {"display": format_scalar(metric.value), "interval": ci, "n": metric.n}


def _rows(run: EvaluationRun) -> list[dict[str, Any]]:
    qs = ExampleResult.objects.filter(run=run).exclude(input="").order_by("index").values(*EXAMPLE_FIELDS)
    return list(qs[:MAX_ALIGNED])


def _differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Judged rows differ when one is right and the other wrong (continuous scores nearly always differ);
    unjudged rows when their scores or outputs do."""
    if a["correct"] is not None and b["correct"] is not None:
        return a["correct"] != b["correct"]
    return a["score"] != b["score"] or a["output"] != b["output"]


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    return abs(a["score"] - b["score"]) if a["score"] is not None and b["score"] is not None else 0.0


def aligned_examples(run_a: EvaluationRun, run_b: EvaluationRun) -> dict[str, Any] | None:
    """Examples of both runs on the same input (repeated inputs pair up in order)."""
    b_by_input: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _rows(run_b):
        b_by_input.setdefault((row["input"], row["category"]), []).append(row)
    pairs = []
    for row in _rows(run_a):
        matches = b_by_input.get((row["input"], row["category"]))
        if matches:
            other = matches.pop(0)
            pairs.append({"a": row, "b": other, "differ": _differ(row, other), "gap": _gap(row, other)})
    if not pairs:
        return None
    pairs.sort(key=lambda p: (not p["differ"], -p["gap"], p["a"]["index"]))
    return {
        "total": len(pairs),
        "differ": sum(p["differ"] for p in pairs),
        "only_a": sum(bool(p["a"]["correct"]) and p["b"]["correct"] is False for p in pairs),
        "only_b": sum(bool(p["b"]["correct"]) and p["a"]["correct"] is False for p in pairs),
        "shown": pairs[:SHOWN_EXAMPLES],
    }


def suite_sections(a: Artifact, b: Artifact) -> list[dict[str, Any]]:
    runs_a, runs_b = latest_runs(a), latest_runs(b)
    sections = []
    for suite in sorted(set(runs_a) | set(runs_b)):
        run_a, run_b = runs_a.get(suite), runs_b.get(suite)
        sections.append(
            {
                "suite": suite,
                "run_a": run_a,
                "run_b": run_b,
                "metrics": metric_rows(run_a, run_b),
                "examples": aligned_examples(run_a, run_b) if run_a and run_b else None,
            }
        )
    return sections


@require_GET
@staff_required
def compare(request: HttpRequest) -> HttpResponse:
    a, error_a = pick_model(request, "a")
    b, error_b = pick_model(request, "b")
    errors = [e for e in (error_a, error_b) if e]
    choices = Artifact.objects.filter(kind__in=MODEL_KINDS).order_by("-id")[:PICKER_LIMIT]
    context = {"a": a, "b": b, "errors": errors, "choices": choices, "sections": []}
    if a and b:
        context["sections"] = suite_sections(a, b)
    return render(request, "evaluation/compare.html", context, status=400 if errors else 200)
