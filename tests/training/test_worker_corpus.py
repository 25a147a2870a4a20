"""The real data runners on a real worker process: prepare_corpus with its process pool inside a Celery worker,
and a worker killed mid-corpus whose job another worker finishes with the same output hash."""

import time

import pytest

from tests.worker_process import celery_worker, purge_queue
from training.models import Job, JobStatus
from training.services import job_execute, job_launch, jobs_reap_stale

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def corpus(tmp_path, docs: int = 400):
    folder = tmp_path / "corpus"
    folder.mkdir()
    import random

    rng = random.Random(0)
    vocab = [f"{a}{b}" for a in ("bar", "cor", "dim", "fal", "gen", "hov", "lum", "mer") for b in "aeiouy"] + [
        "the",
        "and",
        "of",
        "to",
        "with",
        "that",
    ]
    for i in range(docs):
        sentences = [" ".join(rng.choice(vocab) for _ in range(12)).capitalize() + "." for _ in range(8)]
        (folder / f"doc{i:04d}.txt").write_text(" ".join(sentences) + "\n")
    return folder


def wait(pk: int, worker, predicate, timeout: float = 180) -> Job:
    deadline = time.monotonic() + timeout
    while not predicate(job := Job.objects.get(pk=pk)):
        assert time.monotonic() < deadline, worker.log()[-4000:]
        time.sleep(0.1)
    return job


def test_prepare_corpus_and_tokenizer_on_a_worker_and_after_sigkill(tmp_path, settings):
    settings.JOB_STALE_SECONDS = 2
    purge_queue("cpu")
    config = {
        "sources": [{"type": "files", "path": str(corpus(tmp_path))}],
        "shard_size": 20,
        "workers": 2,
        "language": {"enabled": False},
        "gopher_quality": {"enabled": False},
    }
    reference = job_launch(kind="prepare_corpus", config=config)
    purge_queue("cpu")
    assert job_execute(job_id=reference.pk) == "succeeded"
    expected = Job.objects.get(pk=reference.pk).outputs.get(kind="dataset").sha256

    env = {"JOB_HEARTBEAT_SECONDS": "0.3", "JOB_STALE_SECONDS": "2"}
    victim = job_launch(kind="prepare_corpus", config=config)
    with celery_worker(tmp_path / "a.log", queue="cpu", **env) as first:
        wait(victim.pk, first, lambda j: j.progress_step >= 3 or j.is_finished)
        first.kill()
    with celery_worker(tmp_path / "b.log", queue="cpu", **env) as second:
        if not Job.objects.get(pk=victim.pk).is_finished:
            time.sleep(2.5)
            assert jobs_reap_stale() == [victim.pk]
        done = wait(victim.pk, second, lambda j: j.is_finished)
        assert done.status == JobStatus.SUCCEEDED, done.error_message
        assert done.outputs.get(kind="dataset").sha256 == expected

        tokenizer = job_launch(kind="train_tokenizer", config={"algorithm": "bpe", "vocab_size": 512})
        finished = wait(tokenizer.pk, second, lambda j: j.is_finished)
        assert finished.status == JobStatus.SUCCEEDED, finished.error_message
        assert {a.kind for a in finished.outputs.all()} == {"tokenizer", "token_shards"}
