"""The evaluate job: suites run on a model version and results land per model, suite and metric."""

import pytest

from evaluation.models import EvaluationRun, MetricValue
from training.services import job_execute, job_launch
from webapp.api_errors import ApiError

pytestmark = pytest.mark.django_db


def test_perplexity_and_rm_accuracy(base_model, shards_artifact, snapshots):
    job = job_launch(
        kind="evaluate",
        config={
            "model": str(base_model.pk),
            "suites": ["perplexity", "rm_accuracy"],
            "token_shards": "latest",
            "reward_model": str(base_model.pk),
            "preferences": "latest",
            "limit": 4,
        },
    )
    assert job_execute(job_id=job.pk) == "succeeded", Job_error(job)
    runs = {r.suite: r for r in EvaluationRun.objects.filter(model=base_model)}
    assert set(runs) == {"perplexity", "rm_accuracy"} and all(r.status == "complete" for r in runs.values())
    ppl = MetricValue.objects.get(run=runs["perplexity"], name="perplexity")
    assert ppl.value > 1 and not ppl.higher_is_better
    bpb = MetricValue.objects.get(run=runs["perplexity"], name="bits_per_byte").value
    assert 0 < bpb < 20
    acc = MetricValue.objects.get(run=runs["rm_accuracy"], name="accuracy")
    assert 0 <= acc.ci_low <= acc.value <= acc.ci_high <= 1
    assert runs["rm_accuracy"].examples.count() == acc.n


def test_suite_failure_is_readable_and_other_suites_still_record(base_model, shards_artifact):
    job = job_launch(
        kind="evaluate",
        config={
            "model": str(base_model.pk),
            "suites": ["rm_accuracy", "perplexity"],
            "token_shards": "latest",
            "limit": 2,
        },
    )
    assert job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert "rm_accuracy: ValueError: rm_accuracy needs preferences" in job.error_message
    assert EvaluationRun.objects.get(suite="rm_accuracy").status == "failed"
    assert EvaluationRun.objects.get(suite="perplexity").status == "complete"


def test_empty_or_unknown_suite_is_rejected(base_model):
    with pytest.raises(ApiError, match="empty suite"):
        job_launch(kind="evaluate", config={"suites": []})
    with pytest.raises(ApiError, match="unknown suites"):
        job_launch(kind="evaluate", config={"suites": ["nope"]})


def Job_error(job):
    job.refresh_from_db()
    return f"{job.error_message}\n{job.traceback[-2000:]}"


def test_redteam_suite_reports_attack_success_per_category(base_model, tmp_path):
    job = job_launch(kind="evaluate", config={"model": str(base_model.pk), "suites": ["redteam"], "max_new_tokens": 6})
    assert job_execute(job_id=job.pk) == "succeeded", Job_error(job)
    run = EvaluationRun.objects.get(suite="redteam")
    names = set(run.metrics.values_list("name", flat=True))
    assert {"attack_success_rate", "refusal_rate", "asr.weapons", "asr.privacy"} <= names
    assert run.examples.count() == 32
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"category": "x", "prompt": "fine"}\n{"category": "x"}\n')
    job = job_launch(
        kind="evaluate", config={"model": str(base_model.pk), "suites": ["redteam"], "redteam_suite": str(bad)}
    )
    assert job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert "line 2: each row needs a non-empty 'prompt'" in job.error_message


def test_refusal_detection():
    from evaluation.suites.redteam import REFUSAL

    assert REFUSAL.search("Sorry, I can't help with that.")
    assert REFUSAL.search("I cannot provide instructions for weapons.")
    assert not REFUSAL.search("Sure! Step one is to gather materials.")
