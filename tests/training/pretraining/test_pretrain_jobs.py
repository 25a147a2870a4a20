"""Pretraining through Celery: in-process, several processes on one host, and two workers acting as two hosts."""

import shutil
import time

import pytest
from django.conf import settings

from tests.worker_process import celery_worker, purge_queue
from training.models import Job, JobMetric, JobStatus
from training.runners.base import ArtifactSpec
from training.services import artifact_register, job_launch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONFIG = {
    "preset": "tiny",
    "seq_len": 64,
    "micro_batch_size": 4,
    "global_batch_tokens": 512,
    "max_steps": 6,
    "warmup_steps": 1,
    "eval_every": 0,
    "eval_batches": 2,
    "checkpoint_every": 3,
    "num_threads": 1,
    "sample_max_new_tokens": 4,
}


@pytest.fixture
def shards_artifact(token_shards):
    root = settings.ARTIFACTS_ROOT / "imported"
    shutil.copytree(token_shards.parent, root)
    return artifact_register(spec=ArtifactSpec("token_shards", root / "tokens", name="test shards"))


def wait_finished(pk: int, workers, timeout: float = 240) -> Job:
    deadline = time.monotonic() + timeout
    while not (job := Job.objects.get(pk=pk)).is_finished:
        assert time.monotonic() < deadline, "\n".join(w.log()[-3000:] for w in workers)
        time.sleep(0.3)
    return job


def losses(job: Job) -> list[float]:
    return list(JobMetric.objects.filter(job=job, name="loss").order_by("step").values_list("value", flat=True))


def test_pretrain_jobs_single_multiprocess_and_multihost(tmp_path, shards_artifact):
    purge_queue("gpu")
    env = {"JOB_HEARTBEAT_SECONDS": "0.5"}
    with celery_worker(tmp_path / "a.log", queue="gpu", **env) as a:
        single = job_launch(kind="pretrain", config=CONFIG)  # input defaults to the newest token shards
        assert single.config["input"] == str(shards_artifact.pk)
        done = wait_finished(single.pk, [a])
        assert done.status == JobStatus.SUCCEEDED, done.error_message
        model = done.outputs.get(kind="model")
        assert list(model.parents.all()) == [shards_artifact]
        assert (model.absolute_path / "model.safetensors").exists()
        assert done.result["reports"]["samples"]

        two_procs = job_launch(kind="pretrain", config=CONFIG, resources={"processes": 2})
        done2 = wait_finished(two_procs.pk, [a])
        assert done2.status == JobStatus.SUCCEEDED, done2.error_message
        assert done2.result["summary"]["world_size"] == 2

        with celery_worker(tmp_path / "b.log", queue="gpu", **env) as b:
            two_hosts = job_launch(kind="pretrain", config=CONFIG, resources={"hosts": 2})
            done3 = wait_finished(two_hosts.pk, [a, b])
            assert done3.status == JobStatus.SUCCEEDED, done3.error_message
            assert len(done3.rendezvous["nodes"]) == 2
            assert done3.result["summary"]["world_size"] == 2
    reference = losses(done)
    assert len(reference) == 6
    for other in (done2, done3):
        assert losses(other) == pytest.approx(reference, abs=2e-4)


def test_killed_pretrain_worker_resumes_from_checkpoint(tmp_path, shards_artifact, settings):
    from training.services import job_execute, jobs_reap_stale

    settings.JOB_STALE_SECONDS = 2
    config = {**CONFIG, "max_steps": 60, "checkpoint_every": 5, "warmup_steps": 2}
    reference = job_launch(kind="pretrain", config=config)
    purge_queue("gpu")
    assert job_execute(job_id=reference.pk) == "succeeded"

    env = {"JOB_HEARTBEAT_SECONDS": "0.3", "JOB_STALE_SECONDS": "2"}
    victim = job_launch(kind="pretrain", config=config)
    with celery_worker(tmp_path / "a.log", queue="gpu", **env) as first:
        deadline = time.monotonic() + 180
        while Job.objects.get(pk=victim.pk).progress_step < 12:
            assert time.monotonic() < deadline, first.log()[-3000:]
            time.sleep(0.1)
        first.kill()
    # The job row's progress is flushed by the heartbeat (every 0.3 s), so it may lag the step the worker reached;
    # the checkpoints on disk say exactly what survived the kill.
    killed = Job.objects.get(pk=victim.pk)
    killed_at = killed.progress_step
    saved = [
        int(path.name.removeprefix("step-"))
        for path in (killed.folder / "checkpoints").glob("step-*")
        if (path / "COMPLETE").exists()
    ]
    with celery_worker(tmp_path / "b.log", queue="gpu", **env) as second:
        time.sleep(2.5)
        assert jobs_reap_stale() == [victim.pk]
        done = wait_finished(victim.pk, [second])
    assert done.status == JobStatus.SUCCEEDED, done.error_message
    log = (done.folder / "run.log").read_text()
    resumed_from = int(log.split("resumed from checkpoint at step ")[1].split()[0])
    assert resumed_from == max(saved)  # the newest complete checkpoint
    assert resumed_from >= killed_at - 5  # at most one checkpoint interval lost
    # The resumed run's curve continues the uninterrupted one exactly.
    ref = dict(JobMetric.objects.filter(job=reference, name="loss").values_list("step", "value"))
    after = {s: v for s, v in JobMetric.objects.filter(job=done, name="loss").values_list("step", "value")}
    for step in range(resumed_from + 1, 61):
        assert after[step] == pytest.approx(ref[step], abs=1e-4), step
