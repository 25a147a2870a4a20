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
