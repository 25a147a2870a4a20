"""``grpo`` and ``rloo``: online RL with TRL's GRPOTrainer / RLOOTrainer, rewarded by a trained reward model and/or
Python reward functions (``package.module:function`` taking prompts and completions, returning floats)."""

from dataclasses import dataclass

from ..alignment.options import PeftOptions, TrainOptions
from ..configs import ConfigError, field
from .base import RunResult


@dataclass
class GroupRlConfig(TrainOptions):
    """Online RL from a reward model (GRPO or RLOO)."""

    model: str = field("latest", help="the policy to improve (usually the SFT model)", artifact="model|adapter")
    reward_model: str = field(
        "", help="reward model artifact ('latest', an id, or '' for functions only)", artifact="model"
    )
    reward_functions: list[str] = field(default_factory=list, help="extra Python rewards as 'package.module:function'")
    dataset: str = field(
        "latest",
        help="snapshot whose prompts are used ('latest' preferences snapshot, 'snapshot:<id>')",
        artifact="snapshot:preferences",
    )
    peft: PeftOptions = field(default_factory=PeftOptions, help="full fine-tune or LoRA / QLoRA")
    num_generations: int = field(4, help="completions sampled per prompt (the group)")
    max_completion_length: int = field(64, help="longest completion in tokens")
    temperature: float = field(1.0, help="sampling temperature")
    beta: float = field(0.0, help="KL coefficient to the reference policy (0: no reference model)")
    epsilon: float = field(0.2, help="clipping range")
    learning_rate: float = field(1e-6, help="peak learning rate")

    def __post_init__(self) -> None:
        self.validate_training()
        if not self.reward_model and not self.reward_functions:
            raise ConfigError("give a reward_model and/or reward_functions", "reward_model")
        if self.num_generations < 2:
            raise ConfigError("must be at least 2 (advantages are relative within a group)", "num_generations")
        for spec in self.reward_functions:
            if ":" not in spec:
                raise ConfigError(f"{spec!r} is not 'package.module:function'", "reward_functions")


def run(config: GroupRlConfig, ctx) -> RunResult:
    from ..alignment.group_rl import train_group_rl

    return train_group_rl(config, ctx, algorithm="grpo")


def run_rloo(config: GroupRlConfig, ctx) -> RunResult:
    from ..alignment.group_rl import train_group_rl

    return train_group_rl(config, ctx, algorithm="rloo")


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(GroupRlConfig, run))
