"""Reward models with TRL's RewardTrainer, plus a plain pairwise-accuracy check on held-out pairs."""

import torch

from ..runners.base import RunResult
from .trl_common import (
    ContextCallback,
    load_base,
    load_tokenizer,
    peft_config,
    run_trainer,
    save_outputs,
    snapshot_datasets,
    training_arguments,
)


def _text(tokenizer, prompt, completion) -> str:
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    return prompt + completion


@torch.no_grad()
def pairwise_accuracy(model, tokenizer, dataset, max_length: int, batch_size: int = 16) -> float:
    """Share of pairs where the model scores the chosen response above the rejected one."""
    model.eval()
    device = next(model.parameters()).device
    wins = 0
    for start in range(0, len(dataset), batch_size):
        rows = dataset[start : start + batch_size]
        texts = [_text(tokenizer, p, c) for p, c in zip(rows["prompt"], rows["chosen"], strict=True)]
        texts += [_text(tokenizer, p, r) for p, r in zip(rows["prompt"], rows["rejected"], strict=True)]
        enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=max_length).to(device)
        scores = model(**enc).logits.squeeze(-1).float()
        n = len(rows["prompt"])
        wins += int((scores[:n] > scores[n:]).sum())
    return wins / max(1, len(dataset))


def train_reward_model(config, ctx) -> RunResult:
    from trl import RewardConfig, RewardTrainer

    model_path = ctx.resolve_input(config.model, "model")
    data_path = ctx.resolve_input(config.dataset, "snapshot:preferences")
    columns = ["prompt", "chosen", "rejected", *(["margin"] if config.use_margin else [])]
    train, validation = snapshot_datasets(data_path, columns)
    tokenizer = load_tokenizer(model_path)
    args = RewardConfig(
        **training_arguments(
            config,
            ctx,
            max_length=config.max_length,
            center_rewards_coefficient=config.center_rewards_coefficient or None,
        )
    )
    model = load_base(model_path, config.peft, sequence_classification=True)
    model.config.pad_token_id = tokenizer.pad_token_id
    callback = ContextCallback(ctx)
    trainer = RewardTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        peft_config=peft_config(config.peft, task_type="SEQ_CLS"),
        callbacks=[callback],
    )
    ctx.log(f"reward model on {len(train)} pairs ({len(validation) if validation else 0} held out)")
    result = run_trainer(trainer, callback, ctx)
    held_out = validation if validation is not None else train
    accuracy = pairwise_accuracy(trainer.model, tokenizer, held_out, config.max_length)
    ctx.metrics(result.global_step, {"validation_accuracy": accuracy})
    summary = {
        "train_loss": result.training_loss,
        "steps": result.global_step,
        "pairs": len(train),
        "validation_accuracy": accuracy,
        "accuracy_split": "validation" if validation is not None else "train (no validation rows)",
    }
    spec = save_outputs(
        trainer,
        tokenizer,
        ctx,
        peft=config.peft,
        kind_hint="reward-model",
        parents=[config.model, config.dataset],
        metadata={"method": "reward_model", "validation_accuracy": accuracy, "head": "sequence_classification"},
    )
    return RunResult(summary=summary, artifacts=[spec])
