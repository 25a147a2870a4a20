"""GRPO / RLOO on TRL with reward models and Python reward functions."""

import importlib
import json
from collections.abc import Callable

from ..runners.base import RunResult
from .trl_common import (
    ContextCallback,
    load_base,
    load_tokenizer,
    peft_config,
    read_rows,
    run_trainer,
    save_outputs,
    training_arguments,
)


def load_reward_function(spec: str) -> Callable:
    module, _, name = spec.partition(":")
    fn = getattr(importlib.import_module(module), name)
    fn.__name__ = getattr(fn, "__name__", name)
    return fn


def prompts_dataset(path):
    """The snapshot's prompts (deduplicated, in order): preference rows' prompt, or SFT messages minus the answer."""
    from datasets import Dataset

    seen, prompts = set(), []
    for row in read_rows(path):
        if row.get("split", "train") != "train":
            continue
        prompt = row.get("prompt", row.get("messages", [])[:-1])
        key = json.dumps(prompt, sort_keys=True)
        if prompt and key not in seen:
            seen.add(key)
            prompts.append({"prompt": prompt})
    if not prompts:
        raise ValueError(f"the snapshot {path} has no training prompts")
    return Dataset.from_list(prompts)


def train_group_rl(config, ctx, *, algorithm: str) -> RunResult:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if algorithm == "grpo":
        from trl import GRPOConfig as ArgsClass
        from trl import GRPOTrainer as Trainer
    else:
        from trl import RLOOConfig as ArgsClass
        from trl import RLOOTrainer as Trainer

    model_path = ctx.resolve_input(config.model, "model|adapter")
    data_path = ctx.resolve_input(config.dataset, "snapshot:preferences")
    tokenizer = load_tokenizer(model_path)
    rewards: list = [load_reward_function(spec) for spec in config.reward_functions]
    reward_tokenizers: list = [None] * len(rewards)
    parents = [config.model, config.dataset]
    if config.reward_model:
        rm_path = ctx.resolve_input(config.reward_model, "model")
        rm_tokenizer = AutoTokenizer.from_pretrained(rm_path)
        if rm_tokenizer.pad_token is None:
            rm_tokenizer.pad_token = rm_tokenizer.eos_token
        rm = AutoModelForSequenceClassification.from_pretrained(rm_path, num_labels=1)
        rm.config.pad_token_id = rm_tokenizer.pad_token_id
        rewards.insert(0, rm)
        reward_tokenizers.insert(0, rm_tokenizer)
        parents.append(config.reward_model)
    train = prompts_dataset(data_path)
    batch = max(config.per_device_batch_size, config.num_generations)
    batch -= batch % config.num_generations
    args = ArgsClass(
        **training_arguments(
            config,
            ctx,
            per_device_train_batch_size=batch,
            num_generations=config.num_generations,
            max_completion_length=config.max_completion_length,
            temperature=config.temperature,
            beta=config.beta,
            epsilon=config.epsilon,
        )
    )
    callback = ContextCallback(ctx)
    trainer = Trainer(
        model=load_base(model_path, config.peft),
        reward_funcs=rewards,
        args=args,
        train_dataset=train,
        processing_class=tokenizer,
        reward_processing_classes=reward_tokenizers,
        peft_config=peft_config(config.peft),
        callbacks=[callback],
    )
    ctx.log(f"{algorithm.upper()} on {len(train)} prompts, {config.num_generations} completions each")
    result = run_trainer(trainer, callback, ctx)
    summary = {"train_loss": result.training_loss, "steps": result.global_step, "prompts": len(train)}
    spec = save_outputs(
        trainer,
        tokenizer,
        ctx,
        peft=config.peft,
        kind_hint=algorithm,
        parents=parents,
        metadata={"method": algorithm, "num_generations": config.num_generations, "beta": config.beta},
    )
    return RunResult(summary=summary, artifacts=[spec])
