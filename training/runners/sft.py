"""``sft``: supervised fine-tuning on an SFT snapshot with TRL's SFTTrainer (loss on assistant tokens only)."""

from dataclasses import dataclass

from ..alignment.options import PeftOptions, TrainOptions
from ..configs import field
from .base import RunResult


@dataclass
class SftConfig(TrainOptions):
    """Supervised fine-tuning on demonstrations."""

    model: str = field(
        "latest", help="base or previous model version (artifact id, path or 'latest')", artifact="model|adapter"
    )
    dataset: str = field(
        "latest", help="SFT snapshot: 'latest', 'snapshot:<id>' or an artifact id", artifact="snapshot:sft"
    )
    peft: PeftOptions = field(default_factory=PeftOptions, help="full fine-tune or LoRA / QLoRA / prompt tuning")
    assistant_only_loss: bool = field(True, help="conversations: loss on assistant tokens only (chat template markers)")
    packing: bool = field(False, help="pack several examples into each sequence")
    learning_rate: float = field(2e-5, help="peak learning rate")

    def __post_init__(self) -> None:
        self.validate_training()


def run(config: SftConfig, ctx) -> RunResult:
    from ..alignment.sft import train_sft

    return train_sft(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(SftConfig, run))
