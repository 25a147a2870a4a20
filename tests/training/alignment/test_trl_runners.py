"""SFT, reward model and DPO runs on frozen snapshots: full, LoRA and QLoRA; adapters load and merge."""

import math

import pytest

from training.models import Artifact
from training.services import job_execute, job_launch

pytestmark = pytest.mark.django_db

FAST = {"max_steps": 3, "per_device_batch_size": 4, "max_length": 64, "save_steps": 2, "learning_rate": 1e-3}


def launch_and_run(kind: str, config: dict):
    job = job_launch(kind=kind, config={**FAST, **config})
    status = job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert status == "succeeded", f"{job.error_message}\n{job.traceback[-3000:]}"
    return job


def test_sft_full_then_dpo_with_lineage(snapshots, base_model):
    from transformers import AutoModelForCausalLM

    sft = launch_and_run("sft", {"dataset": f"snapshot:{snapshots['sft'].pk}"})
    assert math.isfinite(sft.result["summary"]["train_loss"])
    sft_model = sft.outputs.get(kind="model")
    assert {p.kind for p in sft_model.parents.all()} == {"model", "snapshot"}
    assert sft.metric_points.filter(name="loss").exists()
    AutoModelForCausalLM.from_pretrained(sft_model.absolute_path)

    dpo = launch_and_run("dpo", {"model": str(sft_model.pk), "dataset": "latest"})
    dpo_model = dpo.outputs.get(kind="model")
    snapshot = Artifact.objects.get(kind="snapshot", metadata__snapshot_kind="preferences")
    assert set(dpo_model.parents.all()) == {sft_model, snapshot}
    names = set(dpo.metric_points.values_list("name", flat=True))
    assert {"loss", "rewards_margins", "rewards_accuracies"} <= names


def test_reward_model_reports_accuracy(snapshots, base_model):
    from transformers import AutoModelForSequenceClassification

    job = launch_and_run("reward_model", {"max_steps": 8, "learning_rate": 3e-3})
    summary = job.result["summary"]
    assert 0.0 <= summary["validation_accuracy"] <= 1.0 and summary["accuracy_split"] == "validation"
    model = job.outputs.get(kind="model")
    AutoModelForSequenceClassification.from_pretrained(model.absolute_path)
    assert job.metric_points.filter(name="validation_accuracy").exists()


@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_lora_and_qlora_adapters_load_and_merge(snapshots, base_model, method):
    from peft import AutoPeftModelForCausalLM

    job = launch_and_run("dpo", {"peft": {"method": method, "r": 4, "alpha": 8}})
    adapter = job.outputs.get(kind="adapter")
    assert (adapter.absolute_path / "adapter_config.json").exists()
    merged = AutoPeftModelForCausalLM.from_pretrained(adapter.absolute_path).merge_and_unload()
    assert sum(p.numel() for p in merged.parameters()) > 0


def test_dpo_needs_a_preference_snapshot(snapshots, base_model):
    from webapp.api_errors import ApiError

    with pytest.raises(ApiError, match="needs a preferences snapshot"):
        job_launch(kind="dpo", config={"dataset": f"snapshot:{snapshots['sft'].pk}"})
