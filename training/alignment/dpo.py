"""DPO with TRL's DPOTrainer."""

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


def train_dpo(config, ctx) -> RunResult:
    from trl import DPOConfig, DPOTrainer

    model_path = ctx.resolve_input(config.model, "model|adapter")
    data_path = ctx.resolve_input(config.dataset, "snapshot:preferences")
    train, validation = snapshot_datasets(data_path, ["prompt", "chosen", "rejected"])
    tokenizer = load_tokenizer(model_path)
    args = DPOConfig(
        **training_arguments(
            config,
            ctx,
            max_length=config.max_length,
            beta=config.beta,
            loss_type=[config.loss_type, "sft"] if config.sft_weight else [config.loss_type],
            loss_weights=[1.0, config.sft_weight] if config.sft_weight else None,
            label_smoothing=config.label_smoothing,
            precompute_ref_log_probs=config.precompute_ref_log_probs,
        )
    )
    callback = ContextCallback(ctx)
    trainer = DPOTrainer(
        model=load_base(model_path, config.peft),
        ref_model=None,  # TRL freezes a copy of the starting model, or disables the adapter under PEFT
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        peft_config=peft_config(config.peft),
        callbacks=[callback],
    )
    ctx.log(f"DPO (beta {config.beta}, {config.loss_type}) on {len(train)} preference pairs")
    return train_and_save(
        trainer,
        callback,
        ctx,
        tokenizer,
        peft=config.peft,
        kind_hint="dpo",
        parents=[config.model, config.dataset],
        summary={"pairs": len(train)},
        metadata={"method": "dpo", "beta": config.beta, "loss_type": config.loss_type},
    )
