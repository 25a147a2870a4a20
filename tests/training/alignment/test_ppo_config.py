"""PpoConfig validation: every bad value is refused with an error that names its field (torch-free)."""

import pytest

from training.configs import ConfigError, from_dict, json_schema
from training.runners import KINDS
from training.runners.ppo import PpoConfig

OK = {"reward_function": "tests.training.alignment.test_ppo_loop:vowel_start"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reward_function": ""}, "reward_model"),
        ({"reward_function": "no_colon_here"}, "reward_function"),
        ({"value_model": "reward_model"}, "value_model"),
        ({"peft": {"method": "prompt_tuning"}}, "peft.method"),
        ({"response_length": 600}, "response_length"),
        ({"temperature": 0}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"num_minibatches": 0}, "num_minibatches"),
        ({"ppo_epochs": 0}, "ppo_epochs"),
        ({"kl_control": "pid"}, "kl_control"),
        ({"kl_coef": -0.1}, "kl_coef"),
        ({"kl_target": 0}, "kl_target"),
        ({"lam": 1.5}, "lam"),
        ({"gamma": -0.1}, "gamma"),
        ({"cliprange": 0}, "cliprange"),
        ({"cliprange_value": 0}, "cliprange_value"),
        ({"vf_coef": -1}, "vf_coef"),
        ({"save_steps": 0}, "save_steps"),
        ({"missing_eos_score": "low"}, "missing_eos_score"),
        ({"learning_rate": 2.0}, "learning_rate"),
        ({"max_steps": 0}, "max_steps"),
        ({"reward_normalization": "zscore"}, "reward_normalization"),
    ],
)
def test_bad_values_name_their_field(change, field):
    with pytest.raises(ConfigError) as caught:
        from_dict(PpoConfig, {**OK, **change})
    assert caught.value.field == field, str(caught.value)


def test_defaults_and_schema():
    config = from_dict(PpoConfig, {**OK, "reward_model": "7", "value_model": "reward_model"})
    assert config.rollout_batch_size == config.per_device_batch_size * config.gradient_accumulation_steps
    assert from_dict(PpoConfig, {**OK, "missing_eos_score": None}).missing_eos_score is None
    schema = json_schema(PpoConfig)
    assert schema["properties"]["dataset"]["x-artifact-kind"] == "snapshot:preferences|snapshot:sft"
    assert schema["properties"]["reward_model"]["x-artifact-kind"] == "model"
    assert all(prop.get("description") for prop in schema["properties"].values())
    assert KINDS["ppo"].load_config_class() is PpoConfig


@pytest.mark.django_db
def test_launch_refuses_a_bad_config_with_the_field():
    from training.services import job_launch
    from webapp.api_errors import ApiError

    with pytest.raises(ApiError) as caught:
        job_launch(kind="ppo", config={**OK, "cliprange": -1})
    assert caught.value.extra.get("field") == "cliprange"
