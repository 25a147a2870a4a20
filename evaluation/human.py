"""Human judgments for evaluation: blind comparison projects and the win rate computed from their votes."""

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.models import Judgment, Project, Response, Task
from annotation.services import project_create, prompts_import
from annotation.services.consensus import ranking_pairs
from annotation.services.tasks_build import chunks
from training.models import Artifact

from .models import EvaluationRun
from .services import evaluation_results_record
from .suites import Example, SuiteResult
from .suites.win_rate import win_statistics


def version(artifact: Artifact) -> str:
    return f"artifact:{artifact.pk}"


@transaction.atomic
def human_comparison_project(*, model, baseline, prompts, ours, theirs, project_id=None) -> Project:
    import orjson

    if project_id:
        project = Project.objects.get(pk=project_id)
    else:
        name = f"Blind comparison: #{model.pk} vs #{baseline.pk}"
        project = Project.objects.filter(name=name).first() or project_create(
            name=name,
            guidelines="Which answer is better? The two answers come from different models; judge only the text.",
            task_kinds=["comparison"],
            responses_per_comparison=2,
            overlap=1,
            criteria=[],
        )
        staff = get_user_model().objects.filter(is_staff=True).order_by("id").first()
        if staff is not None:
            project.created_by = staff
    lines = []
    for p, a, b in zip(prompts, ours, theirs, strict=True):
        if not a.strip() or not b.strip() or a == b:
            continue  # identical or empty answers cannot be compared
        responses = [
            {"text": a, "model": model.name, "model_version": version(model)},
            {"text": b, "model": baseline.name, "model_version": version(baseline)},
        ]
        lines.append(orjson.dumps({"messages": p["messages"], "responses": responses}) + b"\n")
    if not lines:
        raise ValueError("the two models answered every prompt identically: nothing for humans to compare")
    prompts_import(project=project, lines=lines)
    return project


def human_win_rate_result(*, project_id: int, model: Artifact, baseline: Artifact) -> SuiteResult:
    ours, theirs = version(model), version(baseline)
    tasks = Task.objects.filter(project_id=project_id, kind="comparison", is_gold=False)
    total = tasks.count()
    judgments = list(Judgment.objects.filter(task__in=tasks).values_list("task_id", "ranking"))
    ids = {rid for _, ranking in judgments for group in ranking for rid in group}
    versions, texts = {}, {}
    for chunk in chunks(sorted(ids)):
        for pk, v, text in Response.objects.filter(pk__in=chunk).values_list("pk", "model_version", "text"):
            versions[pk], texts[pk] = v, text
    outcomes, diffs, examples = [], [], []
    for _, ranking in judgments:
        for lo, hi, outcome in ranking_pairs(ranking):
            pair = {versions.get(lo): lo, versions.get(hi): hi}
            if set(pair) != {ours, theirs}:
                continue
            score = {1: 1.0, -1: 0.0, 0: 0.5}[outcome]
            ours_is_lo = versions[lo] == ours
            result = score if ours_is_lo else 1.0 - score
            outcomes.append(result)
            diffs.append(len(texts[pair[ours]]) - len(texts[pair[theirs]]))
            examples.append(
                Example(
                    input="",
                    output=texts[pair[ours]][:4000],
                    reference=texts[pair[theirs]][:4000],
                    score=result,
                    correct=result == 1.0,
                )
            )
    metrics = win_statistics(outcomes, diffs) if outcomes else []
    for m in metrics:
        m.metadata = {"judge": "human", "tasks": total}
    return SuiteResult(metrics=metrics, examples=examples, waiting=len(judgments) < total)


def human_win_rate_refresh(*, run: EvaluationRun) -> EvaluationRun:
    """Recompute an open human win-rate run from the votes so far (closes it once every task is judged)."""
    if run.suite != "human_win_rate" or run.annotation_project_id is None or run.baseline is None:
        return run
    result = human_win_rate_result(project_id=run.annotation_project_id, model=run.model, baseline=run.baseline)
    result.annotation_project_id = run.annotation_project_id
    return evaluation_results_record(run=run, result=result)
