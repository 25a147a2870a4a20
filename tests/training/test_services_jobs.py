"""Job launch/cancel/retry/clone/reap and in-process execution of the runner contract."""

from datetime import timedelta

import pytest
from django.utils import timezone

from training.models import Artifact, Job, JobMetric
from training.services import job_cancel, job_clone, job_execute, job_launch, job_retry, jobs_reap_stale
from training.services.artifacts import tree_digest
from webapp.api_errors import ApiError, Conflict

pytestmark = pytest.mark.django_db


def test_launch_fills_defaults_and_validates():
    job = job_launch(kind="test_steps", config={"steps": 3})
    assert job.status == "queued" and job.queue == "cpu"
    assert job.config == {"steps": 3, "seconds_per_step": 0.0, "fail_at_step": -1, "checkpoint_every": 1}
    with pytest.raises(ApiError, match="steps: must be at least 1"):
        job_launch(kind="test_steps", config={"steps": 0})
    with pytest.raises(ApiError, match="unknown field"):
        job_launch(kind="test_steps", config={"stepz": 3})
    with pytest.raises(ApiError, match="expected an integer"):
        job_launch(kind="test_steps", config={"steps": "many"})
    with pytest.raises(ApiError, match="Unknown job kind"):
        job_launch(kind="nope", config={})


def test_execute_success_records_progress_metrics_and_artifacts():
    job = job_launch(kind="test_steps", config={"steps": 5})
    assert job_execute(job_id=job.pk, hostname="w1") == "succeeded"
    job.refresh_from_db()
    assert job.progress_step == job.progress_total == 5
    assert job.attempt == 1 and job.worker_host == "w1" and job.finished_at
    assert JobMetric.objects.filter(job=job, name="loss").count() == 5
    assert job.result["reports"]["final"]["digest"] == job.result["summary"]["digest"]
    artifact = Artifact.objects.get(job=job)
    assert artifact.sha256 == tree_digest(artifact.absolute_path)[0]
    assert f"job {job.pk}, attempt 1" in job.log_tail
    assert (job.folder / "run.log").exists()
    assert job_execute(job_id=job.pk) == "skipped"  # a redelivered message does not run it again


def test_failure_is_readable_and_retry_resumes_from_checkpoint():
    job = job_launch(kind="test_steps", config={"steps": 6, "fail_at_step": 4})
    assert job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.error_message == "RuntimeError: planned failure at step 4"
    assert "Traceback" in job.traceback
    reference = job_launch(kind="test_steps", config={"steps": 6})
    job_execute(job_id=reference.pk)
    # Fix the config in place (as a user would after reading the error), then retry: it resumes at step 4.
    Job.objects.filter(pk=job.pk).update(config={**job.config, "fail_at_step": -1})
    job_retry(job=job)
    assert job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.attempt == 2 and "resumed at step 4" in (job.folder / "run.log").read_text()
    reference.refresh_from_db()
    assert job.result["summary"]["digest"] == reference.result["summary"]["digest"]
    with pytest.raises(Conflict):
        job_retry(job=job)


def test_cancel_queued_and_running():
    queued = job_launch(kind="test_steps", config={})
    job_cancel(job=queued)
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    assert job_execute(job_id=queued.pk) == "skipped"
    with pytest.raises(Conflict):
        job_cancel(job=queued)


def test_clone_and_reap_stale():
    job = job_launch(kind="test_steps", config={"steps": 2})
    clone = job_clone(job=job, config={"steps": 4})
    assert clone.source_job == job and clone.config["steps"] == 4 and clone.pk != job.pk
    Job.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now() - timedelta(minutes=5))
    Job.objects.filter(pk=clone.pk).update(status="running", heartbeat_at=timezone.now())
    assert jobs_reap_stale(stale_seconds=60) == [job.pk]
    job.refresh_from_db()
    assert job.status == "queued" and "went stale" in job.log_tail


def test_out_of_memory_says_what_to_lower():
    from training.services.execution import _oom_hint

    hint = _oom_hint(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert "Lower the batch size" in hint and "sequence length" in hint
    assert _oom_hint(MemoryError()) is not None
    assert _oom_hint(ValueError("bad value")) is None
