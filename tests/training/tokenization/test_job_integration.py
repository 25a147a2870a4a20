"""The runner through the job system: minimal config, "latest" dataset input, artifacts with lineage, report."""

import pytest
from django.conf import settings

from tests.training.tokenization.prepared_dataset import standard_splits, stdlib_documents, write_prepared_dataset
from training.models import Artifact, Job
from training.runners.base import ArtifactSpec
from training.services import job_execute, job_launch
from training.services.artifacts import artifact_register

# transaction=True: the job context's heartbeat thread writes from its own connection while the runner works
pytestmark = pytest.mark.django_db(transaction=True)


def test_minimal_job_uses_latest_dataset_and_registers_lineage():
    from transformers import AutoTokenizer

    folder = write_prepared_dataset(settings.ARTIFACTS_ROOT / "datasets" / "d1", standard_splits(stdlib_documents()))
    dataset = artifact_register(spec=ArtifactSpec(kind="dataset", path=folder))

    job = job_launch(kind="train_tokenizer", config={"algorithm": "bpe", "vocab_size": 2048})
    assert job.config["input"] == str(dataset.pk)  # "latest" pinned at launch
    assert job_execute(job_id=job.pk, hostname="test") == "succeeded", Job.objects.get(pk=job.pk).error_message

    job = Job.objects.get(pk=job.pk)
    tokenizer = Artifact.objects.get(job=job, kind="tokenizer")
    shards = Artifact.objects.get(job=job, kind="token_shards")
    assert set(tokenizer.parents.all()) == {dataset}
    assert set(shards.parents.all()) == {dataset, tokenizer}
    assert len(AutoTokenizer.from_pretrained(tokenizer.absolute_path)) == 2048
    assert (shards.absolute_path / "meta.json").is_file()
    report = job.result["reports"]["tokenizer_report"]
    assert report["evaluation"]["split"] == "validation" and report["evaluation"]["chars_per_token"] > 1
    assert job.result["summary"]["vocab_size"] == 2048
    assert job.progress_step == job.progress_total
