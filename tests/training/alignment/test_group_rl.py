"""GRPO and RLOO through jobs, rewarded by a reward model and/or Python functions; adapter merge."""

import math

import pytest

from training.services import job_execute, job_launch

pytestmark = pytest.mark.django_db

FAST = {"max_steps": 2, "per_device_batch_size": 4, "num_generations": 2, "max_completion_length": 8, "save_steps": 1}


def run_job(kind: str, config: dict):
    job = job_launch(kind=kind, config=config)
    status = job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert status == "succeeded", f"{job.error_message}\n{job.traceback[-3000:]}"
    return job


def test_grpo_with_reward_model_and_function(snapshots, base_model):
    job = run_job(
        "grpo",
        {
            **FAST,
            "reward_model": str(base_model.pk),
            "reward_functions": ["tests.training.alignment.rewards:shortness"],
        },
    )
    assert job.result["summary"]["steps"] == 2 and math.isfinite(job.result["summary"]["train_loss"])
    policy = job.outputs.get(kind="model")
    assert base_model in policy.parents.all()
    assert job.metric_points.filter(name__startswith="reward").exists()


def test_rloo_with_function_then_merge_lora(snapshots, base_model):
    from transformers import AutoModelForCausalLM

    job = run_job(
        "rloo",
        {
            **FAST,
            "reward_functions": ["tests.training.alignment.rewards:shortness"],
            "peft": {"method": "lora", "r": 4},
        },
    )
    adapter = job.outputs.get(kind="adapter")
    merged = run_job("merge_adapter", {"adapter": str(adapter.pk)})
    model = merged.outputs.get(kind="model")
    assert list(model.parents.all()) == [adapter]
    AutoModelForCausalLM.from_pretrained(model.absolute_path)


def test_group_rl_config_needs_a_reward():
    from webapp.api_errors import ApiError

    with pytest.raises(ApiError, match="reward_model"):
        job_launch(kind="grpo", config={"reward_model": "", "reward_functions": []})
