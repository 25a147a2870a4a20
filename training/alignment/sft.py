"""SFT with TRL's SFTTrainer."""

from ..runners.base import RunResult
from .trl_common import (
    ContextCallback,
    load_base,
    load_tokenizer,
    peft_config,
    snapshot_datasets,
    train_and_save,
    training_arguments,
)


def train_sft(config, ctx) -> RunResult:
    from trl import SFTConfig, SFTTrainer

    model_path = ctx.resolve_input(config.model, "model|adapter")
    data_path = ctx.resolve_input(config.dataset, "snapshot:sft")
    rows_kind = _row_columns(data_path)
    train, validation = snapshot_datasets(data_path, rows_kind)
    tokenizer = load_tokenizer(model_path)
    conversational = rows_kind == ["messages"]
    args = SFTConfig(
        **training_arguments(
            config,
            ctx,
            max_length=config.max_length,
            packing=config.packing,
            assistant_only_loss=config.assistant_only_loss and conversational,
            completion_only_loss=None if conversational else True,
        )
    )
    callback = ContextCallback(ctx)
    trainer = SFTTrainer(
        model=load_base(model_path, config.peft),
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        peft_config=peft_config(config.peft),
        callbacks=[callback],
    )
    ctx.log(f"SFT on {len(train)} examples ({'conversational' if conversational else 'prompt/completion'})")
    return train_and_save(
        trainer,
        callback,
        ctx,
        tokenizer,
        peft=config.peft,
        kind_hint="sft",
        parents=[config.model, config.dataset],
        summary={"examples": len(train)},
        metadata={"method": "sft", "examples": len(train)},
    )


def _row_columns(path) -> list[str]:
    import json

    with open(path, encoding="utf-8") as fh:
        first = json.loads(fh.readline() or "{}")
    return ["messages"] if "messages" in first else ["prompt", "completion"]
