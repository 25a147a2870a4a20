"""PPO as a job: a reward model trained by a reward_model job scores the rollouts; the policy comes out as a loadable
model whose lineage names the policy, the reward model and the prompt snapshot."""

import math

import pytest

pytestmark = pytest.mark.django_db

RM = {"max_steps": 4, "per_device_batch_size": 4, "max_length": 64, "save_steps": 2, "learning_rate": 3e-3}
PPO = {
    "max_steps": 3, "per_device_batch_size": 4, "gradient_accumulation_steps": 1, "num_minibatches": 2,
    "ppo_epochs": 2, "response_length": 8, "max_length": 64, "learning_rate": 1e-3, "save_steps": 2,
    "eval_steps": 3, "kl_control": "adaptive", "kl_target": 1.0,
}  # fmt: skip


def launch_and_run(kind: str, config: dict):
    from training.services import job_execute, job_launch

    job = job_launch(kind=kind, config=config)
    status = job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert status == "succeeded", f"{job.error_message}\n{job.traceback[-3000:]}"
    return job


def test_ppo_job_with_a_trained_reward_model(snapshots, base_model):
    import torch
    from transformers import AutoModelForCausalLM

    from training.alignment.trl_common import read_rows
    from training.models import Artifact

    torch.set_num_threads(1)
    reward_model = launch_and_run("reward_model", RM).outputs.get(kind="model")
    job = launch_and_run(
        "ppo",
        {**PPO, "model": str(base_model.pk), "reward_model": str(reward_model.pk),
         "dataset": f"snapshot:{snapshots['sft'].pk}", "value_model": "reward_model"},
    )  # fmt: skip
    policy = job.outputs.get(kind="model")
    snapshot = Artifact.objects.get(kind="snapshot", metadata__snapshot_kind="sft")
    assert set(policy.parents.all()) == {base_model, reward_model, snapshot}
    assert policy.metadata["method"] == "ppo" and policy.metadata["value_model"] == "reward_model"
    names = set(job.metric_points.values_list("name", flat=True))
    assert {
        "score",
        "kl",
        "kl_coef",
        "entropy",
        "policy_clipfrac",
        "value_clipfrac",
        "value_loss",
        "policy_loss",
        "approx_kl",
        "response_length",
        "eos_rate",
        "learning_rate",
        "tokens_per_second",
        "eval_score",
    } <= names
    # (metrics flushed by the heartbeat thread may land outside this test's transaction: check presence, not count)
    assert all(math.isfinite(v) for v in job.metric_points.filter(name="score").values_list("value", flat=True))
    summary = job.result["summary"]
    train_rows = [r for r in read_rows(snapshot.absolute_path) if r.get("split", "train") == "train"]
    assert summary["steps"] == 3 and summary["prompts"] == len(train_rows) < 16  # the train split only
    assert len(job.result["reports"]["samples"]) == 4
    reloaded = AutoModelForCausalLM.from_pretrained(policy.absolute_path)
    assert sum(p.numel() for p in reloaded.parameters()) > 0


def test_ppo_reads_prompts_from_a_preference_snapshot_and_refuses_a_policy_as_reward_model(snapshots, base_model):
    from training.services import job_execute, job_launch

    job = job_launch(kind="ppo", config={**PPO, "max_steps": 1, "reward_model": str(base_model.pk)})
    assert job.config["dataset"] == str(job.inputs.get(kind="snapshot").pk)  # 'latest' = the preference snapshot
    assert job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert "not a sequence-classification reward model" in job.error_message
