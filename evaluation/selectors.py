"""Reads for evaluation pages and the API: leaderboard, runs, arena battles from human votes."""

from typing import Any

from django.db.models import Max, Prefetch

from annotation.models import Judgment, Response
from annotation.services.consensus import ranking_pairs
from training.models import Artifact

from .arena import ratings
from .models import EvaluationRun, MetricValue


def arena_battles(*, project_ids: list[int] | None = None) -> list[tuple[str, str, float]]:
    """Every human pairwise vote between responses of two different model versions (ties 0.5)."""
    judgments = Judgment.objects.filter(is_gold=False)
    if project_ids:
        judgments = judgments.filter(task__project_id__in=project_ids)
    rows = list(judgments.values_list("ranking", flat=True).iterator(chunk_size=5000))
    response_ids = {rid for ranking in rows for group in ranking for rid in group}
    version = dict(
        Response.objects.filter(pk__in=response_ids).exclude(model_version="").values_list("pk", "model_version")
    )
    battles = []
    for ranking in rows:
        for lo, hi, outcome in ranking_pairs(ranking):
            a, b = version.get(lo), version.get(hi)
            if a and b and a != b:
                battles.append((a, b, {1: 1.0, -1: 0.0, 0: 0.5}[outcome]))
    return battles


def arena_leaderboard(*, project_ids: list[int] | None = None, rounds: int = 200) -> list[dict[str, Any]]:
    battles = arena_battles(project_ids=project_ids)
    names = _version_names({a for a, _, _ in battles} | {b for _, b, _ in battles})
    return [
        {**r.__dict__, "label": names.get(r.model, r.model), "artifact_id": _artifact_id(r.model)}
        for r in ratings(battles, rounds=rounds)
    ]


def _artifact_id(version: str) -> int | None:
    return int(version.split(":", 1)[1]) if version.startswith("artifact:") and version[9:].isdigit() else None


def _version_names(versions: set[str]) -> dict[str, str]:
    ids = [i for v in versions if (i := _artifact_id(v)) is not None]
    names = dict(Artifact.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {v: f"{names.get(_artifact_id(v), v)} (#{_artifact_id(v)})" for v in versions if _artifact_id(v)}


def leaderboard() -> dict[str, Any]:
    """Model versions by metrics: the latest complete run's value per (suite, metric)."""
    latest = (
        EvaluationRun.objects.filter(status__in=["complete", "waiting"])
        .values("model_id", "suite")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    runs = (
        EvaluationRun.objects.filter(pk__in=list(latest))
        .select_related("model")
        .prefetch_related(Prefetch("metrics", queryset=MetricValue.objects.order_by("id")))
    )
    columns: dict[str, dict[str, Any]] = {}
    rows: dict[int, dict[str, Any]] = {}
    for run in runs:
        row = rows.setdefault(run.model_id, {"model": run.model, "values": {}})
        for m in run.metrics.all():
            key = f"{run.suite}.{m.name}"
            columns.setdefault(key, {"key": key, "higher_is_better": m.higher_is_better})
            row["values"][key] = {"value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high, "run": run.pk}
    return {"columns": sorted(columns.values(), key=lambda c: c["key"]), "rows": list(rows.values())}
