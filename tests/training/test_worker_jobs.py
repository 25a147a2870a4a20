"""Jobs on real Celery worker processes: end to end, cancel, and a worker killed mid-job (SIGKILL)."""

import time

import pytest

from tests.worker_process import celery_worker, purge_queue
from training.models import Job, JobStatus
from training.services import job_cancel, job_execute, job_launch, jobs_reap_stale

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout: float, worker, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{worker.log()[-4000:]}"
        time.sleep(0.1)
    return value


def job(pk: int) -> Job:
    return Job.objects.get(pk=pk)


@pytest.fixture
def cpu_queue():
    purge_queue("cpu")
    return "cpu"


def test_worker_runs_job_end_to_end_and_cancels(tmp_path, cpu_queue, settings):
    with celery_worker(tmp_path / "w.log", queue=cpu_queue, JOB_HEARTBEAT_SECONDS="0.5") as worker:
        done = job_launch(kind="test_steps", config={"steps": 5})
        wait_for(lambda: job(done.pk).is_finished, 60, worker, "the first job")
        assert job(done.pk).status == JobStatus.SUCCEEDED, job(done.pk).error_message
        assert job(done.pk).outputs.count() == 1

        slow = job_launch(kind="test_steps", config={"steps": 500, "seconds_per_step": 0.05})
        wait_for(lambda: job(slow.pk).progress_step >= 3, 60, worker, "progress")
        job_cancel(job=job(slow.pk))
        asked = time.monotonic()
        wait_for(lambda: job(slow.pk).is_finished, 30, worker, "the cancel")
        assert time.monotonic() - asked < 5
        finished = job(slow.pk)
        assert finished.status == JobStatus.CANCELLED and finished.progress_step < 500
        assert (finished.folder / "checkpoints").exists()


def test_killed_worker_job_resumes_elsewhere_with_identical_output(tmp_path, cpu_queue, settings):
    settings.JOB_STALE_SECONDS = 2
    env = {"JOB_HEARTBEAT_SECONDS": "0.3", "JOB_STALE_SECONDS": "2"}
    config = {"steps": 60, "seconds_per_step": 0.05, "checkpoint_every": 5}
    reference = job_launch(kind="test_steps", config=config)
    purge_queue(cpu_queue)  # the reference runs in-process below, not on the worker
    assert job_execute(job_id=reference.pk) == "succeeded"

    victim = job_launch(kind="test_steps", config=config)
    with celery_worker(tmp_path / "a.log", queue=cpu_queue, **env) as first:
        wait_for(lambda: job(victim.pk).progress_step >= 12, 60, first, "progress on the first worker")
        first.kill()
    killed_at = job(victim.pk).progress_step
    assert job(victim.pk).status == JobStatus.RUNNING  # nobody told the database: the host just died
    with celery_worker(tmp_path / "b.log", queue=cpu_queue, **env) as second:
        time.sleep(2.5)
        assert jobs_reap_stale() == [victim.pk]  # what beat does every 30 s
        wait_for(lambda: job(victim.pk).is_finished, 60, second, "the resumed job")
        log = (job(victim.pk).folder / "run.log").read_text()
    resumed = job(victim.pk)
    assert resumed.status == JobStatus.SUCCEEDED, resumed.error_message
    assert resumed.attempt == 2
    resumed_from = int(log.split("resumed at step ")[1].split()[0])
    assert killed_at - 5 <= resumed_from <= killed_at  # lost at most one checkpoint interval
    assert resumed.result["summary"]["digest"] == job(reference.pk).result["summary"]["digest"]
    assert resumed.outputs.get().sha256 == job(reference.pk).outputs.get().sha256
