"""``reward_model``: a scalar reward model (sequence classification, one label) on a preference snapshot."""

from dataclasses import dataclass

from ..alignment.options import PeftOptions, TrainOptions
from ..configs import field
from .base import RunResult


@dataclass
class RewardModelConfig(TrainOptions):
    """Train a reward model on human preferences."""

    model: str = field("latest", help="base or SFT model to start from", artifact="model")
    dataset: str = field(
        "latest",
        help="preference snapshot: 'latest', 'snapshot:<id>' or an artifact id",
        artifact="snapshot:preferences",
    )
    peft: PeftOptions = field(default_factory=PeftOptions, help="full fine-tune or LoRA / QLoRA")
    use_margin: bool = field(False, help="use the snapshot's margin column in the loss (margin-aware ranking loss)")
    center_rewards_coefficient: float = field(0.0, help="penalty pulling mean rewards to zero (0: off)")
    learning_rate: float = field(1e-5, help="peak learning rate")

    def __post_init__(self) -> None:
        self.validate_training()


def run(config: RewardModelConfig, ctx) -> RunResult:
    from ..alignment.reward import train_reward_model

    return train_reward_model(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(RewardModelConfig, run))
