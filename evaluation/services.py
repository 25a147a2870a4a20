"""Every write in the evaluation app: runs, their metrics and examples, the default suite after training."""

from django.db import transaction
from django.utils import timezone

from training.models import Artifact, Job

from .models import EvaluationRun, ExampleResult, MetricValue
from .suites import SuiteResult


@transaction.atomic
def evaluation_run_start(
    *, model: Artifact, suite: str, config: dict, job: Job | None = None, baseline: Artifact | None = None
) -> EvaluationRun:
    return EvaluationRun.objects.create(model=model, suite=suite, config=config, job=job, baseline=baseline)


@transaction.atomic
def evaluation_results_record(*, run: EvaluationRun, result: SuiteResult) -> EvaluationRun:
    """Store a suite's metrics and examples at once; re-recording replaces them (human win rates refresh)."""
    run = EvaluationRun.objects.select_for_update().get(pk=run.pk)
    MetricValue.objects.filter(run=run).delete()
    MetricValue.objects.bulk_create(
        MetricValue(
            run=run,
            name=m.name,
            value=m.value,
            n=m.n,
            ci_low=m.ci_low,
            ci_high=m.ci_high,
            higher_is_better=m.higher_is_better,
            metadata=m.metadata,
        )
        for m in result.metrics
    )
    if result.examples or not ExampleResult.objects.filter(run=run).exists():
        ExampleResult.objects.filter(run=run).delete()
        ExampleResult.objects.bulk_create(
            (
                ExampleResult(
                    run=run,
                    index=i,
                    category=e.category[:64],
                    input=e.input,
                    output=e.output,
                    reference=e.reference,
                    score=e.score,
                    correct=e.correct,
                    metadata=e.metadata,
                )
                for i, e in enumerate(result.examples)
            ),
            batch_size=500,
        )
    run.status = EvaluationRun.Status.WAITING if result.waiting else EvaluationRun.Status.COMPLETE
    run.annotation_project_id = result.annotation_project_id or run.annotation_project_id
    run.finished_at = None if result.waiting else timezone.now()
    run.save(update_fields=["status", "annotation_project_id", "finished_at"])
    return run


@transaction.atomic
def evaluation_run_fail(*, run: EvaluationRun, message: str) -> None:
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.FAILED, finished_at=timezone.now(), config={**run.config, "error": message}
    )


AUTO_KINDS = {"pretrain", "sft", "dpo", "ppo", "grpo", "rloo", "merge_adapter"}


def evaluate_after_training(job: Job) -> Job | None:
    """The default suite after a model-producing job succeeds (settings.EVALUATION_AUTO_SUITES; [] turns it off).

    Only suites whose inputs exist are run: perplexity needs token shards, reward-model accuracy a reward model
    and preferences, reference metrics accepted demonstrations; the others run on their built-in fixtures.
    """
    from django.conf import settings

    from annotation.models import DatasetSnapshot
    from training.services import job_launch

    wanted = list(getattr(settings, "EVALUATION_AUTO_SUITES", []))
    if job.kind not in AUTO_KINDS or not wanted:
        return None
    model = job.outputs.filter(kind__in=["model", "adapter"]).order_by("-id").first()
    if model is None:
        return None
    config: dict = {"model": str(model.pk), "suites": [], "limit": settings.EVALUATION_AUTO_LIMIT}
    shards = Artifact.objects.filter(kind="token_shards").order_by("-id").first()
    for suite in wanted:
        if suite == "perplexity":
            if shards is None:
                continue
            config["token_shards"] = str(shards.pk)
        elif suite == "reference":
            if not DatasetSnapshot.objects.filter(kind="sft").exists():
                continue
            config["demonstrations"] = "latest"
        elif suite in ("rm_accuracy", "win_rate", "human_win_rate"):
            continue  # these need a chosen reward model or baseline: launched by hand
        config["suites"].append(suite)
    if not config["suites"]:
        return None
    return job_launch(kind="evaluate", config=config, name=f"auto: {job.kind} #{job.pk}", queue=job.queue)


def refresh_waiting_runs() -> int:
    from .human import human_win_rate_refresh

    count = 0
    for run in EvaluationRun.objects.filter(status=EvaluationRun.Status.WAITING, suite="human_win_rate"):
        human_win_rate_refresh(run=run)
        count += 1
    return count
