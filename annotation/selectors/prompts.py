"""Prompts as model inputs (for generation jobs run by the training app)."""

from typing import Any

from django.db.models import Exists, OuterRef

from ..models import Project, Response


def prompts_for_generation(
    *, project: Project, split: str | None = None, limit: int = 0, skip_model_version: str | None = None
) -> list[dict[str, Any]]:
    qs = project.prompts.order_by("id")
    if split:
        qs = qs.filter(split=split)
    if skip_model_version:
        qs = qs.exclude(Exists(Response.objects.filter(prompt=OuterRef("pk"), model_version=skip_model_version)))
    rows = qs.values("id", "messages", "is_conversation")
    return list(rows[:limit] if limit else rows)
