"""``dpo``: Direct Preference Optimization with TRL; the reference is the starting (SFT) model, or the model with
its adapter disabled under LoRA."""

from dataclasses import dataclass
from typing import Literal

from ..alignment.options import PeftOptions, TrainOptions
from ..configs import ConfigError, field
from .base import RunResult

LOSS_TYPES = (
    "sigmoid",
    "hinge",
    "ipo",
    "exo_pair",
    "nca_pair",
    "robust",
    "bco_pair",
    "sppo_hard",
    "aot",
    "aot_unpaired",
    "apo_zero",
    "apo_down",
    "discopop",
    "sigmoid_norm",
)


@dataclass
class DpoConfig(TrainOptions):
    """Direct Preference Optimization on human preferences."""

    model: str = field("latest", help="the SFT model to align (also the frozen reference)", artifact="model|adapter")
    dataset: str = field(
        "latest",
        help="preference snapshot: 'latest', 'snapshot:<id>' or an artifact id",
        artifact="snapshot:preferences",
    )
    peft: PeftOptions = field(default_factory=PeftOptions, help="full fine-tune or LoRA / QLoRA")
    beta: float = field(0.1, help="strength of the KL constraint to the reference")
    loss_type: str = field("sigmoid", help=f"one of TRL's DPO losses: {', '.join(LOSS_TYPES)}")
    label_smoothing: float = field(0.0, help="assumed label noise (used by the robust, exo_pair and aot losses)")
    sft_weight: float = field(
        0.0, help="add an SFT (NLL) term on the chosen responses with this weight (RPO); keeps outputs well-formed"
    )
    precompute_ref_log_probs: bool = field(False, help="compute reference log-probs once up front (saves memory)")
    learning_rate: float = field(5e-6, help="peak learning rate")
    reference: Literal["initial"] = field("initial", help="the reference model: the starting model, frozen")

    def __post_init__(self) -> None:
        self.validate_training()
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"must be one of {list(LOSS_TYPES)}", "loss_type")
        if self.beta <= 0:
            raise ConfigError("must be positive", "beta")
        if self.sft_weight < 0:
            raise ConfigError("must be >= 0", "sft_weight")


def run(config: DpoConfig, ctx) -> RunResult:
    from ..alignment.dpo import train_dpo

    return train_dpo(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(DpoConfig, run))
