"""``pretrain``: train a base model from config on packed token shards (causal LM, or masked LM for encoders).

The module stays light (the web process imports PretrainConfig); the loop lives in training.pretraining.
CLI: ``python -m training.runners.pretrain --config cfg.yaml --output DIR`` (``input`` then is a token-shards path).
Several processes: ``torchrun --nproc_per_node N -m training.runners.pretrain --config ... --output ...``.
"""

from dataclasses import dataclass
from typing import Literal

from ..configs import ConfigError, field
from .base import RunResult

PRESETS = ("tiny", "small", "125m", "1b", "custom")


@dataclass
class PretrainConfig:
    """Pretrain a base transformer on packed token shards."""

    input: str = field("latest", help="token shards: 'latest', an artifact id, or a path", artifact="token_shards")
    architecture: Literal["llama", "gpt2", "bert"] = field("llama", help="decoder (llama, gpt2) or encoder (bert)")
    objective: Literal["auto", "clm", "mlm"] = field("auto", help="auto: clm for decoders, mlm for bert")
    preset: Literal["tiny", "small", "125m", "1b", "custom"] = field(
        "small", help="model size: tiny (tests), small (6 layers, 384 hidden), 125m (GPT-2 small shape), 1b"
    )
    n_layers: int | None = field(None, help="override the preset's layer count")
    hidden_size: int | None = field(None, help="override the preset's hidden size")
    n_heads: int | None = field(None, help="override the preset's attention heads")
    intermediate_size: int | None = field(None, help="override the preset's MLP width")
    seq_len: int = field(256, help="tokens per training sequence (packed, documents separated by EOS)")
    micro_batch_size: int = field(8, help="sequences per forward/backward pass on one process")
    global_batch_tokens: int = field(16384, help="tokens per optimizer step over all processes (sets accumulation)")
    max_steps: int = field(200, help="optimizer steps")
    lr: float = field(1e-3, help="peak learning rate")
    min_lr_ratio: float = field(0.1, help="final learning rate as a fraction of the peak")
    warmup_steps: int = field(20, help="linear warmup steps")
    schedule: Literal["cosine", "linear", "wsd", "constant"] = field(
        "cosine", help="decay after warmup; wsd = warmup-stable-decay"
    )
    wsd_decay_fraction: float = field(0.2, help="wsd: fraction of steps spent decaying at the end")
    weight_decay: float = field(0.1, help="AdamW decay (never applied to norms, biases, embeddings)")
    beta1: float = field(0.9, help="AdamW beta1")
    beta2: float = field(0.95, help="AdamW beta2")
    eps: float = field(1e-8, help="AdamW epsilon")
    grad_clip: float = field(1.0, help="clip the global gradient norm (0 disables)")
    optimizer: Literal["adamw", "adamw_8bit"] = field(
        "adamw", help="adamw (fused on CUDA and CPU) or bitsandbytes 8-bit"
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(
        "auto",
        help="auto: bf16 where the device computes it natively (GPUs; CPUs with AVX512-BF16 or AMX), else fp16 on "
        "GPUs (with a grad scaler) and fp32 on CPUs",
    )
    compile: bool = field(False, help="torch.compile the model")
    activation_checkpointing: bool = field(False, help="recompute activations in backward to save memory")
    mlm_probability: float = field(0.15, help="masked LM: fraction of tokens to mask")
    curriculum: bool = field(False, help="visit documents from easy to hard (needs difficulty in the shards)")
    curriculum_warmup_fraction: float = field(
        0.5, help="curriculum: fraction of training over which sampling moves from easy-only to all data"
    )
    eval_every: int = field(50, help="evaluate on the validation split every N steps (0: only at the end)")
    eval_batches: int = field(8, help="validation micro-batches per evaluation")
    checkpoint_every: int = field(50, help="checkpoint every N steps (and at the end)")
    keep_checkpoints: int = field(2, help="keep this many recent checkpoints (plus the best)")
    max_nonfinite_steps: int = field(5, help="fail after this many consecutive non-finite losses")
    seed: int = field(1234, help="seed for weights, data order and masking")
    num_threads: int = field(
        0, help="CPU threads for torch (0: the cores this process may use, split among torchrun's local processes)"
    )
    sample_prompts: list[str] = field(
        default_factory=lambda: ["The", "def ", "Returns"], help="prompts for sample generations at the end"
    )
    sample_max_new_tokens: int = field(32, help="length of each sample generation")
    distributed: Literal["auto", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3"] = field(
        "auto",
        help="with several processes: ddp (default) or fsdp (FSDP2) for models that do not fit; or DeepSpeed "
        "(the deepspeed extra, one process too): deepspeed_zero2 partitions optimizer state and gradients, "
        "deepspeed_zero3 also the weights",
    )
    zero_offload: Literal["none", "optimizer", "optimizer_and_params"] = field(
        "none",
        help="DeepSpeed only: keep the fp32 master weights and AdamW state (optimizer) and, with deepspeed_zero3, "
        "the weights too (optimizer_and_params) in CPU memory; slower, fits larger models per GPU",
    )

    def __post_init__(self) -> None:
        for name in ("seq_len", "micro_batch_size", "global_batch_tokens", "max_steps"):
            if getattr(self, name) < 1:
                raise ConfigError("must be at least 1", name)
        if self.warmup_steps < 0 or self.warmup_steps > self.max_steps:
            raise ConfigError("must lie in [0, max_steps]", "warmup_steps")
        if not 0 < self.lr < 1:
            raise ConfigError("must lie in (0, 1)", "lr")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("must lie in [0, 1]", "min_lr_ratio")
        if not 0 < self.wsd_decay_fraction <= 1:
            raise ConfigError("must lie in (0, 1]", "wsd_decay_fraction")
        if not 0 < self.mlm_probability < 1:
            raise ConfigError("must lie in (0, 1)", "mlm_probability")
        if self.objective == "mlm" and self.architecture != "bert":
            raise ConfigError("the masked-LM objective needs the bert architecture", "objective")
        if self.objective == "clm" and self.architecture == "bert":
            raise ConfigError("bert is an encoder: use objective mlm (or auto)", "objective")
        if self.preset == "custom" and None in (self.n_layers, self.hidden_size, self.n_heads):
            raise ConfigError("custom needs n_layers, hidden_size and n_heads", "preset")
        if self.hidden_size and self.n_heads and self.hidden_size % self.n_heads:
            raise ConfigError("must divide hidden_size", "n_heads")
        deepspeed = self.distributed.startswith("deepspeed")
        if self.zero_offload != "none" and not deepspeed:
            raise ConfigError("offload needs distributed deepspeed_zero2 or deepspeed_zero3", "zero_offload")
        if self.zero_offload == "optimizer_and_params" and self.distributed != "deepspeed_zero3":
            raise ConfigError("offloading the weights needs deepspeed_zero3 (ZeRO-2 keeps them whole)", "zero_offload")
        if deepspeed and self.optimizer == "adamw_8bit":
            raise ConfigError("DeepSpeed partitions fp32 AdamW state: use optimizer adamw", "optimizer")
        if deepspeed and self.compile:
            raise ConfigError("compile is not supported with DeepSpeed here: use ddp or fsdp to compile", "compile")

    @property
    def resolved_objective(self) -> str:
        if self.objective != "auto":
            return self.objective
        return "mlm" if self.architecture == "bert" else "clm"


def run(config: PretrainConfig, ctx) -> RunResult:
    from ..pretraining.cpu_defaults import apply_cpu_env_defaults

    late = apply_cpu_env_defaults()  # before the loop imports torch
    if late:
        ctx.log(late)
    from ..pretraining.loop import train

    return train(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(PretrainConfig, run))
