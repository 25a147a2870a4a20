"""The model registry's pages: the list of model versions and a model page (config, lineage, curves, evaluations,
sample generations side by side with the parent's).

Evaluations belong to the evaluation app, which imports training and never the reverse: this module reaches them
only through the reverse relation ``artifact.evaluations`` and URL names, so the training app still works alone.
Samples come from an ordinary ``generate`` job (``prompts`` + ``models=[this, parent]``) launched from the page's
form; the page shows the newest such job and, while it runs, polls the job API until it can show the samples.
"""

import json
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.api_errors import ApiError

from ..models import Artifact, Job, JobStatus
from ..selectors.jobs import artifact_lineage, artifact_payload, job_metric_series
from ..services import job_launch
from .assets import plotly_url
from .common import staff_required
from .downloads import resolve_inside
from .lineage_graph import MODEL_KINDS, lineage_svg

PAGE_SIZE = 50
MAX_PROMPTS = 8  # x 2 models x 1 sample stays within the 20 rows the generate runner reports
MAX_PROMPT_CHARS = 2000
CONFIG_FILES = ("config.json", "adapter_config.json", "generation_config.json")
CONFIG_MAX_BYTES = 256 * 1024
DEFAULT_PROMPTS = [
    "Explain what a Python context manager is.",
    "Write a function that returns the n-th Fibonacci number.",
    "What does the `with` statement do?",
]
EVAL_OVERLAY_PREFIXES = ("", "val_", "eval_", "validation_")


class SamplesForm(forms.Form):
    prompts = forms.CharField(
        required=False,  # an empty box gets the message of clean_prompts
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=f"One prompt per line, at most {MAX_PROMPTS}.",
    )
    temperature = forms.FloatField(min_value=0, max_value=2, initial=0.7, help_text="0: greedy")
    max_new_tokens = forms.IntegerField(min_value=1, max_value=512, initial=64)

    def clean_prompts(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["prompts"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError("Write at least one prompt.")
        if len(lines) > MAX_PROMPTS:
            raise forms.ValidationError(f"At most {MAX_PROMPTS} prompts (one per line); you gave {len(lines)}.")
        if any(len(line) > MAX_PROMPT_CHARS for line in lines):
            raise forms.ValidationError(f"A prompt may have at most {MAX_PROMPT_CHARS} characters.")
        return lines


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def parent_model(artifact: Artifact) -> Artifact | None:
    """The model this one was trained from: the producing job's ``model`` / ``adapter`` input when it names one of
    the parents (a PPO run also lists its reward model), else the newest model or adapter parent."""
    parents = list(artifact.parents.filter(kind__in=MODEL_KINDS).order_by("-id"))
    config = artifact.job.config if artifact.job_id else {}
    for key in ("model", "adapter"):
        ref = str(config.get(key, ""))
        for parent in parents:
            if ref == str(parent.pk):
                return parent
    return parents[0] if parents else None


def model_files_config(artifact: Artifact) -> list[tuple[str, str]]:
    """The HF config files inside the model folder (architecture, adapter settings), pretty-printed."""
    base = resolve_inside(artifact.absolute_path)
    out = []
    for name in CONFIG_FILES:
        path = resolve_inside(artifact.absolute_path, name) if base is not None else None
        if path is None or not path.is_file() or path.stat().st_size > CONFIG_MAX_BYTES:
            continue
        try:
            out.append((name, json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=2, ensure_ascii=False)))
        except (ValueError, UnicodeDecodeError):
            continue
    return out


def evaluation_runs(artifact: Artifact) -> list[Any]:
    """This model's evaluation runs and those of its sibling outputs (checkpoints of the same job), newest first."""
    if not hasattr(artifact, "evaluations"):
        return []
    model_ids = [artifact.pk]
    if artifact.job_id:
        model_ids = list(artifact.job.outputs.filter(kind__in=MODEL_KINDS).values_list("pk", flat=True))
    run_model = artifact.evaluations.model  # EvaluationRun, reached without importing the evaluation app
    return list(run_model.objects.filter(model_id__in=model_ids).select_related("model").prefetch_related("metrics"))


def eval_points(runs: list[Any], series: dict[str, Any], last_step: int | None) -> list[dict[str, Any]]:
    """Evaluation metrics as chart points: on the training curve of the same quantity when there is one
    (``perplexity`` on ``val_perplexity``), else on a chart of their own, at the step of the evaluated checkpoint."""
    points = []
    for run in runs:
        if run.status not in ("complete", "waiting"):
            continue
        step = run.config.get("step", run.model.metadata.get("step", last_step))
        for metric in run.metrics.all():
            overlay = next((p + metric.name for p in EVAL_OVERLAY_PREFIXES if p + metric.name in series), None)
            points.append(
                {
                    "label": f"{run.suite} · {metric.name}",
                    "chart": overlay,
                    "step": step if isinstance(step, int | float) else 0,
                    "value": metric.value,
                    "ci_low": metric.ci_low,
                    "ci_high": metric.ci_high,
                    "run": run.pk,
                    "url": _url("evaluation:run-detail", run.pk),
                }
            )
    return points


def samples_job(artifact: Artifact) -> Job | None:
    """The newest ``generate`` job this page launched for the model (prompts given, this model first)."""
    for job in Job.objects.filter(kind="generate", inputs=artifact).order_by("-id")[:25]:
        models = job.config.get("models") or []
        if job.config.get("prompts") and models and str(models[0]) == str(artifact.pk):
            return job
    return None


def samples_table(job: Job) -> dict[str, Any]:
    """Per prompt, each model's samples in the order the job named the models (this model, then its parent)."""
    models = [str(m) for m in job.config.get("models") or []]
    rows = ((job.result or {}).get("reports") or {}).get("generation_samples") or []
    path = resolve_inside(job.folder, "generations.jsonl")
    if path is not None and path.is_file():  # the full file when it is on this host (the report keeps 20 rows)
        rows = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a crash; the runner rewrites the batch on resume
    registered = Artifact.objects.filter(pk__in=[int(m) for m in models if m.isdigit()]).values_list("pk", "name")
    names = {str(m): f"#{m}" for m in models} | {str(pk): f"#{pk} {name}" for pk, name in registered}
    texts: dict[tuple[int, str], list[str]] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        version = str(row.get("model_version", "")).removeprefix("artifact:")
        texts.setdefault((row.get("prompt_id"), version), []).append(str(row.get("text", "")))
    prompts = job.config.get("prompts") or []
    return {
        "columns": [names.get(m, m) for m in models],
        "rows": [{"prompt": p, "cells": [texts.get((i, m), []) for m in models]} for i, p in enumerate(prompts)],
        "count": len(rows),
    }


@require_GET
@staff_required
def model_list(request: HttpRequest) -> HttpResponse:
    qs = Artifact.objects.filter(kind__in=MODEL_KINDS).select_related("job").prefetch_related("parents").order_by("-id")
    if hasattr(Artifact, "evaluations"):
        qs = qs.annotate(n_evaluations=Count("evaluations", distinct=True))
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(path__icontains=query) | Q(job__kind=query))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"model": a, "parents": [p for p in a.parents.all() if p.kind in MODEL_KINDS], "others": a.parents.all()}
        for a in page
    ]
    context = {"page": page, "rows": rows, "query": query, "leaderboard_url": _url("evaluation:leaderboard")}
    return render(request, "training/model_list.html", context)


def _model_page(request: HttpRequest, artifact: Artifact, form: SamplesForm, status: int = 200) -> HttpResponse:
    job = artifact.job
    parent = parent_model(artifact)
    edges = artifact_lineage(artifact)
    children = [artifact_payload(c) for c in artifact.children.filter(kind__in=MODEL_KINDS).order_by("pk")[:12]]
    series = job_metric_series(job=job)["series"] if job else {}
    last_step = max((max(s["step"]) for s in series.values() if s["step"]), default=None)
    runs = evaluation_runs(artifact)
    own_runs = [r for r in runs if r.model_id == artifact.pk]
    snapshots = []
    for edge in edges:
        node = edge["parent"]
        if node["kind"] == "snapshot" and node["id"] not in [s["id"] for s in snapshots]:
            snapshot_id = node["metadata"].get("snapshot_id")
            rows_url = _url("annotation-api:snapshot-download", snapshot_id) if isinstance(snapshot_id, int) else None
            snapshots.append({**node, "snapshot_id": snapshot_id, "rows_url": rows_url})
    sample_job = samples_job(artifact)
    finished = sample_job is not None and sample_job.is_finished
    context = {
        "artifact": artifact,
        "job": job,
        "parent": parent,
        "lineage_svg": lineage_svg(artifact_payload(artifact), edges, children),
        "snapshots": snapshots,
        "children": children,
        "config_json": json.dumps(job.config, indent=2, ensure_ascii=False) if job else "",
        "file_configs": model_files_config(artifact),
        "metadata_json": json.dumps(artifact.metadata, indent=2, ensure_ascii=False) if artifact.metadata else "",
        "chart_data": {"series": series, "evals": eval_points(runs, series, last_step)},
        "has_charts": bool(series) or any(r.status in ("complete", "waiting") for r in runs),
        "plotly_url": plotly_url(),
        "runs": own_runs,
        "form": form,
        "sample_job": sample_job,
        "samples": samples_table(sample_job) if finished and sample_job.status == JobStatus.SUCCEEDED else None,
        "samples_config": {
            "job": sample_job.pk if sample_job else None,
            "finished": finished,
            "api": reverse("training-api:job-detail", args=[sample_job.pk]) if sample_job else None,
        },
        "evaluate_url": reverse("admin:training_job_add") + "?kind=evaluate",
        "merge_hint": artifact.kind == "adapter",
        "compare_parent_url": (
            f"{_url('evaluation:compare')}?a={artifact.pk}&b={parent.pk}"
            if parent and _url("evaluation:compare")
            else None
        ),
    }
    return render(request, "training/model_detail.html", context, status=status)


def _initial_form(artifact: Artifact) -> SamplesForm:
    last = samples_job(artifact)
    prompts = (last.config.get("prompts") if last else None) or DEFAULT_PROMPTS
    initial = {"prompts": "\n".join(prompts)}
    if last:
        initial.update(temperature=last.config.get("temperature"), max_new_tokens=last.config.get("max_new_tokens"))
    return SamplesForm(initial={k: v for k, v in initial.items() if v is not None})


def _model(artifact_id: int) -> Artifact:
    return get_object_or_404(Artifact.objects.select_related("job"), pk=artifact_id, kind__in=MODEL_KINDS)


@require_GET
@staff_required
def model_detail(request: HttpRequest, artifact_id: int) -> HttpResponse:
    artifact = _model(artifact_id)
    return _model_page(request, artifact, _initial_form(artifact))


@require_POST
@staff_required
def model_samples_launch(request: HttpRequest, artifact_id: int) -> HttpResponse:
    """One ``generate`` job sampling the prompts from this model and its parent; back to the page, which waits."""
    artifact = _model(artifact_id)
    form = SamplesForm(request.POST)
    if not form.is_valid():
        return _model_page(request, artifact, form, status=400)
    parent = parent_model(artifact)
    models = [str(artifact.pk)] + ([str(parent.pk)] if parent else [])
    config = {
        "models": models,
        "prompts": form.cleaned_data["prompts"],
        "samples_per_prompt": 1,
        "temperature": form.cleaned_data["temperature"],
        "max_new_tokens": form.cleaned_data["max_new_tokens"],
    }
    name = f"samples: #{artifact.pk}" + (f" vs parent #{parent.pk}" if parent else "")
    try:
        job_launch(kind="generate", config=config, created_by=request.user, name=name)
    except ApiError as exc:
        form.add_error(None, f"The generate job could not be launched: {exc.detail}")
        return _model_page(request, artifact, form, status=400)
    return redirect(reverse("training:model-detail", args=[artifact.pk]) + "#samples")
