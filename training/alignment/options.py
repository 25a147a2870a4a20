"""Config pieces every alignment runner shares (kept torch-free: the web process validates configs)."""

from dataclasses import dataclass
from typing import Literal

from ..configs import ConfigError, field

PeftMethod = Literal["none", "lora", "qlora", "prompt_tuning"]


@dataclass
class PeftOptions:
    """Full fine-tune, or a parameter-efficient method (PEFT)."""

    method: PeftMethod = field("none", help="none (full fine-tune), lora, qlora (4-bit NF4 base + LoRA), prompt_tuning")
    r: int = field(16, help="LoRA rank")
    alpha: int = field(32, help="LoRA alpha (scaling = alpha / r)")
    dropout: float = field(0.05, help="LoRA dropout")
    target_modules: list[str] = field(
        default_factory=lambda: ["all-linear"], help="modules that get adapters ('all-linear' or names like q_proj)"
    )
    use_dora: bool = field(False, help="DoRA: weight-decomposed LoRA")
    num_virtual_tokens: int = field(16, help="prompt tuning: learned virtual tokens")

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha < 1:
            raise ConfigError("r and alpha must be at least 1", "r")
        if not 0 <= self.dropout < 1:
            raise ConfigError("must lie in [0, 1)", "dropout")


@dataclass
class TrainOptions:
    """Optimization settings shared by the TRL-based runners."""

    max_steps: int = field(100, help="optimizer steps (-1: use epochs)")
    epochs: float = field(1.0, help="passes over the data when max_steps is -1")
    per_device_batch_size: int = field(8, help="examples per device per forward pass")
    gradient_accumulation_steps: int = field(1, help="forward passes per optimizer step")
    learning_rate: float = field(5e-5, help="peak learning rate")
    lr_scheduler: Literal["linear", "cosine", "constant_with_warmup", "warmup_stable_decay"] = field(
        "cosine", help="schedule after warmup"
    )
    warmup_ratio: float = field(0.05, help="share of steps spent warming up (in [0, 1))")
    weight_decay: float = field(0.0, help="AdamW weight decay")
    max_grad_norm: float = field(1.0, help="gradient clipping")
    optimizer_8bit: bool = field(False, help="bitsandbytes 8-bit AdamW")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field("auto", help="auto: bf16 where native, else fp32")
    gradient_checkpointing: bool = field(False, help="recompute activations to save memory")
    max_length: int = field(512, help="truncate sequences to this many tokens")
    logging_steps: int = field(1, help="log metrics every N steps")
    eval_steps: int = field(0, help="evaluate on the validation split every N steps (0: at the end only)")
    save_steps: int = field(50, help="checkpoint every N steps (resume point)")
    save_total_limit: int = field(2, help="checkpoints kept")
    seed: int = field(42, help="seed")

    def validate_training(self) -> None:
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError("must be positive, or -1 to train by epochs", "max_steps")
        if self.per_device_batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ConfigError("must be at least 1", "per_device_batch_size")
        if not 0 < self.learning_rate < 1:
            raise ConfigError("must lie in (0, 1)", "learning_rate")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError("must lie in [0, 1)", "warmup_ratio")
        if self.max_length < 8:
            raise ConfigError("must be at least 8", "max_length")
