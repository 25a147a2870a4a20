"""Loading what a PPO run needs: the policy (full, LoRA or QLoRA), its reference, the critic, the reward model."""

from pathlib import Path

import torch

from ..trl_common import load_base, load_tokenizer, peft_config
from .models import PolicyAndCritic, disable_dropout, frozen_copy
from .rewards import RewardModelScorer


def _is_quantized(model) -> bool:
    return bool(getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False))


def _place(model, device: torch.device):
    return model if _is_quantized(model) else model.to(device)


def build_policy_and_critic(config, policy_path: Path, reward_path: Path | None, tokenizer, device) -> PolicyAndCritic:
    from peft import get_peft_model

    policy = _place(load_base(policy_path, config.peft), device)
    disable_dropout(policy)
    reference = None
    if config.peft.method == "none":
        reference = frozen_copy(policy)
    else:
        policy = get_peft_model(policy, peft_config(config.peft))
        disable_dropout(policy)
    critic = None
    if config.value_model != "head":
        source = reward_path if config.value_model == "reward_model" else policy_path
        if (Path(source) / "adapter_config.json").exists():
            raise ValueError(f"value_model {config.value_model!r} needs a full model; {source} is an adapter")
        critic = _place(load_base(source, config.peft, sequence_classification=True), device)
        critic.config.pad_token_id = tokenizer.pad_token_id
        if config.peft.method != "none":
            critic = get_peft_model(critic, peft_config(config.peft, task_type="SEQ_CLS"))
        disable_dropout(critic)
    if config.gradient_checkpointing:
        for module in (policy, critic):
            if module is not None:
                module.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = PolicyAndCritic(policy, critic=critic, reference=reference)
    if model.value_head is not None:
        model.value_head.to(device)
    model.train()
    return model


def load_reward_scorer(path: Path, *, max_length: int, batch_size: int, device) -> RewardModelScorer:
    from transformers import AutoConfig, AutoModelForSequenceClassification

    path = Path(path)
    if (path / "adapter_config.json").exists():
        from peft import AutoPeftModelForSequenceClassification

        model = AutoPeftModelForSequenceClassification.from_pretrained(path, num_labels=1).merge_and_unload()
    else:
        architectures = AutoConfig.from_pretrained(path).architectures or []
        if not any(name.endswith("ForSequenceClassification") for name in architectures):
            raise ValueError(
                f"reward_model {path.name} is a {architectures or 'model'} checkpoint, not a sequence-classification "
                "reward model: train one with a reward_model job"
            )
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    tokenizer = load_tokenizer(path)
    return RewardModelScorer(model.to(device), tokenizer, max_length=max_length, batch_size=batch_size)
