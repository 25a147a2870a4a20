"""``ppo``: plumbline's own PPO for RLHF (TRL removed its PPOTrainer in 1.13).

Written from the PPO paper (Schulman et al. 2017), Ziegler et al. 2019 (per-token KL penalty, adaptive KL
controller) and "The N Implementation Details of RLHF with PPO" (Huang et al. 2024): rollouts by sampling, truncation
after the first EOS with a score for responses that never end, GAE, whitening, clipped policy and value losses,
several minibatch epochs per rollout batch. This module stays torch-free: the web process validates configs.
"""

import re
from dataclasses import dataclass
from typing import Literal

from ..alignment.options import PeftOptions, TrainOptions
from ..configs import ConfigError, field
from .base import RunResult

DOTTED_FUNCTION = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


@dataclass
class PpoConfig(TrainOptions):
    """Proximal Policy Optimization against a reward model (and/or a Python reward function)."""

    model: str = field(
        "latest", help="the SFT policy to optimize (its copy is the frozen reference)", artifact="model|adapter"
    )
    reward_model: str | None = field(
        None,
        help="reward model: a sequence-classification model (a reward_model job's output); null: reward_function only",
        artifact="model",
    )
    dataset: str = field(
        "latest",
        help="prompts: a preference or SFT snapshot ('latest' preference snapshot, 'snapshot:<id>' or an artifact "
        "id); the prompt column, or the messages without the last assistant turn",
        artifact="snapshot:preferences|snapshot:sft",
    )
    reward_function: str = field(
        "",
        help="optional Python reward 'package.module:function' called as f(prompts, completions) -> list of floats; "
        "added to the reward model's score (or the only reward when there is no reward model)",
    )
    peft: PeftOptions = field(
        default_factory=PeftOptions, help="full fine-tune, LoRA or QLoRA (reference = adapter off)"
    )
    value_model: Literal["head", "policy", "reward_model"] = field(
        "head",
        help="the critic: a value head on the policy's own hidden states (head), or a separate model initialised "
        "from the policy (policy) or from the reward model (reward_model, as in Ziegler et al.)",
    )
    response_length: int = field(64, help="most tokens generated per response")
    temperature: float = field(0.7, help="sampling temperature (log-probs in the loss use the same temperature)")
    top_k: int = field(0, help="sample among the k likeliest tokens (0: off; off keeps PPO exactly on-policy)")
    top_p: float = field(1.0, help="nucleus sampling mass (1.0: off; off keeps PPO exactly on-policy)")
    generation_batch_size: int = field(0, help="prompts per generate() call (0: the whole rollout batch at once)")
    missing_eos_score: float | None = field(
        -1.0, help="score given to responses that reach response_length without EOS (null: keep their reward)"
    )
    num_minibatches: int = field(
        1,
        help="minibatches (optimizer steps) per PPO epoch; rollout batch = per_device_batch_size x "
        "gradient_accumulation_steps x num_minibatches",
    )
    ppo_epochs: int = field(4, help="passes over each rollout batch")
    kl_coef: float = field(0.05, help="per-token KL penalty coefficient (initial value when adaptive)")
    kl_control: Literal["fixed", "adaptive"] = field("fixed", help="fixed coefficient, or Ziegler et al.'s controller")
    kl_target: float = field(6.0, help="adaptive: the KL (nats per response) the controller steers to")
    kl_horizon: int = field(10000, help="adaptive: the controller's horizon in episodes")
    kl_estimator: Literal["k1", "k3"] = field(
        "k1", help="per-token KL estimator: k1 (log-ratio) or k3 (lower variance)"
    )
    gamma: float = field(1.0, help="discount")
    lam: float = field(0.95, help="GAE lambda")
    cliprange: float = field(0.2, help="policy ratio clip range")
    cliprange_value: float = field(0.2, help="value clip range around the rollout's values")
    vf_coef: float = field(0.1, help="weight of the value loss")
    entropy_coef: float = field(0.0, help="entropy bonus weight (0: off)")
    whiten_advantages: bool = field(True, help="normalize advantages over the rollout batch's response tokens")
    whiten_rewards: bool = field(False, help="whiten per-token rewards over the batch (mean kept)")
    reward_normalization: Literal["none", "initial", "batch"] = field(
        "none",
        help="scores: as is (none), scaled once so the starting policy's first batch has mean 0 and std 1 "
        "(initial, as in Ziegler et al.), or whitened per rollout batch (batch)",
    )
    gradient_accumulation_steps: int = field(4, help="micro-batches per optimizer step (one minibatch)")
    learning_rate: float = field(3e-6, help="peak learning rate")
    lr_scheduler: Literal["linear", "cosine", "constant_with_warmup", "warmup_stable_decay"] = field(
        "linear", help="schedule over PPO steps after warmup"
    )
    warmup_ratio: float = field(0.0, help="share of PPO steps spent warming up (in [0, 1))")
    max_steps: int = field(100, help="PPO steps (rollout + update); -1: use epochs over the prompts")
    max_length: int = field(512, help="prompt + response tokens; prompts keep their last max_length - response_length")
    eval_steps: int = field(0, help="score sampled responses to the validation prompts every N steps (0: never)")

    @property
    def rollout_batch_size(self) -> int:
        return self.per_device_batch_size * self.gradient_accumulation_steps * self.num_minibatches

    def __post_init__(self) -> None:
        self.validate_training()
        if not self.reward_model and not self.reward_function:
            raise ConfigError("give a reward model, a reward_function, or both", "reward_model")
        if self.reward_function and not DOTTED_FUNCTION.match(self.reward_function):
            raise ConfigError("must look like 'package.module:function'", "reward_function")
        if self.value_model == "reward_model" and not self.reward_model:
            raise ConfigError("a critic initialised from the reward model needs reward_model", "value_model")
        if self.peft.method == "prompt_tuning":
            raise ConfigError("PPO supports none, lora and qlora", "peft.method")
        checks = [
            ("response_length", 1 <= self.response_length <= self.max_length - 4, "must lie in [1, max_length - 4]"),
            ("temperature", self.temperature > 0, "must be positive"),
            ("top_k", self.top_k >= 0, "must be 0 (off) or positive"),
            ("top_p", 0 < self.top_p <= 1, "must lie in (0, 1]"),
            ("generation_batch_size", self.generation_batch_size >= 0, "must be 0 or positive"),
            ("num_minibatches", self.num_minibatches >= 1, "must be at least 1"),
            ("ppo_epochs", self.ppo_epochs >= 1, "must be at least 1"),
            ("kl_coef", self.kl_coef >= 0, "must not be negative"),
            ("kl_target", self.kl_target > 0, "must be positive"),
            ("kl_horizon", self.kl_horizon >= 1, "must be at least 1"),
            ("gamma", 0 <= self.gamma <= 1, "must lie in [0, 1]"),
            ("lam", 0 <= self.lam <= 1, "must lie in [0, 1]"),
            ("cliprange", self.cliprange > 0, "must be positive"),
            ("cliprange_value", self.cliprange_value > 0, "must be positive"),
            ("vf_coef", self.vf_coef >= 0, "must not be negative"),
            ("entropy_coef", self.entropy_coef >= 0, "must not be negative"),
            ("save_steps", self.save_steps >= 1, "must be at least 1"),
            ("save_total_limit", self.save_total_limit >= 1, "must be at least 1"),
            ("logging_steps", self.logging_steps >= 1, "must be at least 1"),
            ("eval_steps", self.eval_steps >= 0, "must be 0 or positive"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ConfigError(message, name)


def run(config: PpoConfig, ctx) -> RunResult:
    from ..alignment.ppo.trainer import train_ppo

    return train_ppo(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(PpoConfig, run))
