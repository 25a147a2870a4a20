"""The leaderboard: model versions by metrics (the latest run per suite), and the arena's Bradley-Terry ratings."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from training.views.assets import plotly_url
from training.views.common import staff_required
from training.views.models import parent_model
from training.views.reports import format_scalar

from ..models import EvaluationRun
from ..selectors import arena_leaderboard, leaderboard

RECENT_RUNS = 20


def interval(value: dict[str, Any]) -> str:
    """``[low, high]`` of a 95% interval, or "" when the metric has none."""
    if value.get("ci_low") is None or value.get("ci_high") is None:
        return ""
    return f"[{format_scalar(value['ci_low'])}, {format_scalar(value['ci_high'])}]"


def best_values(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, float]:
    """The best value per column (highest, or lowest where lower is better), to mark it in the table."""
    best = {}
    for column in columns:
        values = [r["values"][column["key"]]["value"] for r in rows if column["key"] in r["values"]]
        if len(values) > 1:
            best[column["key"]] = max(values) if column["higher_is_better"] else min(values)
    return best


def board_table(board: dict[str, Any]) -> dict[str, Any]:
    columns = [
        {**c, "suite": c["key"].split(".", 1)[0], "metric": c["key"].split(".", 1)[1] if "." in c["key"] else c["key"]}
        for c in board["columns"]
    ]
    groups: list[dict[str, Any]] = []
    for column in columns:
        if groups and groups[-1]["suite"] == column["suite"]:
            groups[-1]["span"] += 1
        else:
            groups.append({"suite": column["suite"], "span": 1})
    best = best_values(columns, board["rows"])
    rows = []
    for row in sorted(board["rows"], key=lambda r: -r["model"].pk):
        model = row["model"]
        cells = []
        for column in columns:
            value = row["values"].get(column["key"])
            if value is None:
                cells.append(None)
                continue
            cells.append(
                {
                    **value,
                    "display": format_scalar(value["value"]),
                    "interval": interval(value),
                    "best": best.get(column["key"]) == value["value"],
                    "url": reverse("evaluation:run-detail", args=[value["run"]]),
                }
            )
        rows.append({"model": model, "parent": parent_model(model), "cells": cells})
    return {"columns": columns, "groups": groups, "rows": rows}


def arena_rows(arena: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for rank, entry in enumerate(arena, start=1):
        artifact_id = entry.get("artifact_id")
        out.append(
            {
                **entry,
                "rank": rank,
                "url": reverse("training:model-detail", args=[artifact_id]) if artifact_id else None,
                "win_share": entry["wins"] / entry["battles"] if entry["battles"] else None,
            }
        )
    return out


@require_GET
@staff_required
def leaderboard_page(request: HttpRequest) -> HttpResponse:
    table = board_table(leaderboard())
    arena = arena_rows(arena_leaderboard())
    chart = [
        {k: entry[k] for k in ("label", "rating", "ci_low", "ci_high", "battles", "artifact_id", "url")}
        for entry in arena
    ]
    context = {
        "table": table,
        "arena": arena,
        "arena_chart": chart,
        "recent": EvaluationRun.objects.select_related("model", "baseline").order_by("-id")[:RECENT_RUNS],
        "plotly_url": plotly_url(),
        "evaluate_url": reverse("admin:training_job_add") + "?kind=evaluate",
        "compare_choices": [row["model"] for row in table["rows"]],
    }
    return render(request, "evaluation/leaderboard.html", context)
