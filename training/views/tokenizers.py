"""Several train_tokenizer jobs' reports side by side.

The comparison table comes from ``training.tokenization.report.compare_reports`` (imported lazily, since the
tokenizer package is optional on a web host); without it the page builds a plain table from the reports' numbers.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..models import Job, JobStatus
from .common import staff_required
from .reports import format_scalar, token_chips

KIND = "train_tokenizer"
MAX_COMPARED = 12
RECENT = 50


def parse_ids(request: HttpRequest) -> list[int]:
    """``?ids=1,2`` and ``?ids=1&ids=2`` both work; a non-number raises ValueError."""
    raw = ",".join(request.GET.getlist("ids"))
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        value = int(part)
        if value not in ids:
            ids.append(value)
    return ids


def _report(job: Job) -> dict[str, Any] | None:
    report = ((job.result or {}).get("reports") or {}).get("tokenizer_report")
    return report if isinstance(report, dict) else None


def _label(job: Job, report: dict[str, Any]) -> str:
    if job.name:
        return f"#{job.pk} {job.name}"
    tokenizer = report.get("tokenizer") or {}
    return " ".join(str(p) for p in (f"#{job.pk}", tokenizer.get("algorithm"), tokenizer.get("vocab_size")) if p)


def _fallback_compare(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    keys: list[str] = []
    for report in labelled:
        numbers = report.get("evaluation") if isinstance(report.get("evaluation"), dict) else report
        keys.extend(
            k for k, v in numbers.items() if isinstance(v, int | float | str) and k not in keys and k != "label"
        )
    rows = []
    for report in labelled:
        numbers = report.get("evaluation") if isinstance(report.get("evaluation"), dict) else report
        rows.append({"label": report["label"], "values": {k: numbers.get(k) for k in keys}, "best": []})
    return {
        "columns": [{"key": k, "label": k.replace("_", " "), "better": None} for k in keys],
        "rows": rows,
        "warnings": [],
        "samples": [],
    }


def comparison(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        from training.tokenization.report import compare_reports
    except ImportError:
        return _fallback_compare(labelled)
    return compare_reports(labelled)


def metric_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Transposed for the page: one row per measure, one column per tokenizer, the best values marked."""
    out = []
    for column in table["columns"]:
        key = column["key"]
        if all(row["values"].get(key) is None for row in table["rows"]):
            continue
        cells = [
            {"value": format_scalar(row["values"].get(key)), "best": key in row.get("best", [])}
            for row in table["rows"]
        ]
        out.append({"label": column["label"], "better": column.get("better"), "cells": cells})
    return out


def shared_samples(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The documents every tokenizer split, each tokenizer's cut as chips."""
    return [
        {
            "id": sample.get("id"),
            "text": sample.get("text") or "",
            "tokenizations": [
                {"label": t.get("label"), "n_tokens": t.get("n_tokens"), "chips": token_chips(t.get("tokens") or [])}
                for t in sample.get("tokenizations", [])
            ],
        }
        for sample in table.get("samples", [])
    ]


@require_GET
@staff_required
def tokenizer_compare(request: HttpRequest) -> HttpResponse:
    recent = Job.objects.filter(kind=KIND, status=JobStatus.SUCCEEDED).order_by("-id")[:RECENT]
    context: dict[str, Any] = {"recent": recent, "selected": [], "missing": [], "table": None}
    try:
        ids = parse_ids(request)
    except ValueError:
        context["error"] = "ids must be job numbers separated by commas, e.g. ?ids=12,15."
        return render(request, "training/tokenizer_compare.html", context, status=400)
    if len(ids) > MAX_COMPARED:
        context["error"] = f"Compare at most {MAX_COMPARED} tokenizers at a time."
        return render(request, "training/tokenizer_compare.html", context, status=400)
    jobs = {job.pk: job for job in Job.objects.filter(pk__in=ids, kind=KIND)}
    labelled = []
    for job_id in ids:
        job = jobs.get(job_id)
        report = _report(job) if job else None
        if report is None:
            context["missing"].append(job_id)
            continue
        labelled.append({**report, "label": _label(job, report)})
        context["selected"].append(job)
    if labelled:
        table = comparison(labelled)
        context.update(
            table=table,
            rows=metric_rows(table),
            labels=[r["label"] for r in table["rows"]],
            samples=shared_samples(table),
        )
    context["selected_ids"] = [job.pk for job in context["selected"]]
    return render(request, "training/tokenizer_compare.html", context)
