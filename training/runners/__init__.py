"""The registry of job kinds. Runner modules are imported lazily: a runner may import torch inside ``run``, but the
module's top level (its config dataclass) stays light, because the web process validates configs without torch."""

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobKind:
    name: str
    module: str
    config_class: str
    queue: str
    description: str

    def load_config_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.config_class)

    def load_runner(self):
        return importlib.import_module(self.module).run


KINDS: dict[str, JobKind] = {
    k.name: k
    for k in (
        JobKind(
            "prepare_corpus",
            "training.runners.prepare_corpus",
            "PrepareCorpusConfig",
            "cpu",
            "Ingest and clean a text corpus: dedup, near-dup, quality filters, PII redaction, harmful content, splits.",
        ),
        JobKind(
            "train_tokenizer",
            "training.runners.train_tokenizer",
            "TrainTokenizerConfig",
            "cpu",
            "Train a BPE / WordPiece / Unigram tokenizer on a prepared dataset and pack token shards.",
        ),
        JobKind(
            "pretrain",
            "training.runners.pretrain",
            "PretrainConfig",
            "gpu",
            "Pretrain a base model (decoder with next-token or encoder with masked-LM objective) on token shards.",
        ),
        JobKind(
            "generate",
            "training.runners.generate",
            "GenerateConfig",
            "gpu",
            "Sample K responses per prompt from model versions into an annotation project (the next comparisons).",
        ),
        JobKind("sft", "training.runners.sft", "SftConfig", "gpu", "Supervised fine-tuning on an SFT snapshot (TRL)."),
        JobKind(
            "reward_model",
            "training.runners.reward_model",
            "RewardModelConfig",
            "gpu",
            "A scalar reward model on a preference snapshot (TRL RewardTrainer).",
        ),
        JobKind("dpo", "training.runners.dpo", "DpoConfig", "gpu", "Direct Preference Optimization (TRL DPOTrainer)."),
        JobKind("ppo", "training.runners.ppo", "PpoConfig", "gpu", "PPO against a reward model (plumbline's own PPO)."),
        JobKind("grpo", "training.runners.grpo", "GroupRlConfig", "gpu", "GRPO from a reward model (TRL GRPOTrainer)."),
        JobKind("rloo", "training.runners.rloo", "GroupRlConfig", "gpu", "RLOO from a reward model (TRL RLOOTrainer)."),
        JobKind(
            "merge_adapter",
            "training.runners.merge_adapter",
            "MergeAdapterConfig",
            "cpu",
            "Merge a LoRA adapter into its base and export a full model version.",
        ),
    )
}


def _extra_kinds() -> dict[str, JobKind]:
    """Kinds added by the deployment: ``PLUMBLINE_EXTRA_JOB_KINDS=module:ATTR,...`` (each ATTR a JobKind)."""
    import os

    out = {}
    for spec in filter(None, (s.strip() for s in os.environ.get("PLUMBLINE_EXTRA_JOB_KINDS", "").split(","))):
        module, _, attr = spec.partition(":")
        kind = getattr(importlib.import_module(module), attr)
        out[kind.name] = kind
    return out


KINDS.update(_extra_kinds())


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"Unknown job kind {name!r}; known kinds: {sorted(KINDS)}") from None


def validate_config(kind: str, data: Any):
    """The kind's config dataclass built from JSON data (defaults filled in); raises ConfigError."""
    from ..configs import from_dict

    return from_dict(get_kind(kind).load_config_class(), data if data is not None else {})
