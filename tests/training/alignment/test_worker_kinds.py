"""Alignment and evaluation kinds through a real Celery worker process (the path a deployment takes)."""

import time

import pytest

from tests.worker_process import celery_worker, purge_queue
from training.models import Job, JobStatus
from training.services import job_launch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST = {"max_steps": 2, "per_device_batch_size": 4, "max_length": 64, "save_steps": 2}


def finish(pk: int, worker, timeout: float = 300) -> Job:
    deadline = time.monotonic() + timeout
    while not (job := Job.objects.get(pk=pk)).is_finished:
        assert time.monotonic() < deadline, worker.log()[-4000:]
        time.sleep(0.2)
    assert job.status == JobStatus.SUCCEEDED, f"{job.kind}: {job.error_message}"
    return job


def test_sft_reward_model_dpo_and_evaluate_on_a_worker(snapshots, base_model, tmp_path):
    purge_queue("gpu")
    with celery_worker(tmp_path / "w.log", queue="gpu", JOB_HEARTBEAT_SECONDS="0.5") as worker:
        sft = finish(job_launch(kind="sft", config=FAST).pk, worker)
        sft_model = sft.outputs.get(kind="model")
        rm = job_launch(kind="reward_model", config={**FAST, "model": str(base_model.pk)})
        dpo = job_launch(kind="dpo", config={**FAST, "model": str(sft_model.pk), "sft_weight": 0.5})
        finish(rm.pk, worker)
        dpo = finish(dpo.pk, worker)
        evaluation = job_launch(
            kind="evaluate",
            config={
                "model": str(dpo.outputs.get().pk),
                "suites": ["mmlu", "redteam"],
                "limit": 2,
                "max_new_tokens": 4,
                "lm_eval": False,
            },
        )
        evaluation = finish(evaluation.pk, worker)
    assert {"mmlu", "redteam"} == set(evaluation.result["summary"])
    assert dpo.metric_points.filter(name="rewards_margins").exists()
