"""Glue between TRL trainers and the runner context: arguments, callbacks, data, models, outputs."""

import json
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from ..pretraining.precision import choose_precision
from ..runners.base import ArtifactSpec, JobCancelled


class ContextCallback(TrainerCallback):
    """Streams TRL's logs into job metrics and progress, and stops training when the job is cancelled."""

    def __init__(self, ctx, prefix: str = ""):
        self.ctx = ctx
        self.prefix = prefix
        self.cancelled = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        values = {}
        for key, value in (logs or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[self.prefix + key.replace("/", "_")] = float(value)
        if values:
            self.ctx.metrics(state.global_step, values)

    def on_step_end(self, args, state, control, **kwargs):
        self.ctx.progress(state.global_step, state.max_steps, f"step {state.global_step}")
        try:
            self.ctx.check_cancelled()
        except JobCancelled:
            self.cancelled = True
            control.should_save = True
            control.should_training_stop = True
        return control


def device_precision(requested: str) -> tuple[str, dict[str, Any]]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = choose_precision(requested, device)
    return precision, {"bf16": precision == "bf16", "fp16": precision == "fp16", "use_cpu": device.type == "cpu"}


def training_arguments(options, ctx, **extra) -> dict[str, Any]:
    """Keyword arguments for a TRL config class from the shared TrainOptions."""
    _, flags = device_precision(options.precision)
    args = {
        "output_dir": str(ctx.folder / "trainer"),
        "max_steps": options.max_steps,
        "num_train_epochs": options.epochs,
        "per_device_train_batch_size": options.per_device_batch_size,
        "per_device_eval_batch_size": options.per_device_batch_size,
        "gradient_accumulation_steps": options.gradient_accumulation_steps,
        "learning_rate": options.learning_rate,
        "lr_scheduler_type": options.lr_scheduler,
        "warmup_steps": options.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio of total steps
        "weight_decay": options.weight_decay,
        "max_grad_norm": options.max_grad_norm,
        "optim": "adamw_bnb_8bit" if options.optimizer_8bit else "adamw_torch",
        "activation_checkpointing": options.gradient_checkpointing,
        "logging_steps": options.logging_steps,
        "save_strategy": "steps",
        "save_steps": options.save_steps,
        "save_total_limit": options.save_total_limit,
        "seed": options.seed,
        "data_seed": options.seed,
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        **flags,
    }
    if options.eval_steps:
        args.update(eval_strategy="steps", eval_steps=options.eval_steps)
    args.update(extra)
    return args


def last_trainer_checkpoint(ctx) -> str | None:
    folder = ctx.folder / "trainer"
    if not folder.exists():
        return None
    done = sorted(
        (p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists()),
        key=lambda p: int(p.name.split("-")[1]),
    )
    return str(done[-1]) if done else None


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def snapshot_datasets(path: Path, keep: list[str]):
    """train / validation Datasets from a snapshot's JSONL rows (split column), keeping the given columns."""
    from datasets import Dataset

    rows = read_rows(path)
    if not rows:
        raise ValueError(f"the dataset snapshot {path} holds no rows")
    missing = [c for c in keep if c not in rows[0]]
    if missing:
        raise ValueError(f"the snapshot rows lack the columns {missing}: is it the right kind of snapshot?")

    def pick(split: str):
        chosen = [{c: r[c] for c in keep} for r in rows if r.get("split", "train") == split]
        return Dataset.from_list(chosen) if chosen else None

    train = pick("train") or Dataset.from_list([{c: r[c] for c in keep} for r in rows])
    return train, pick("validation")


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(peft):
    if peft.method != "qlora":
        return None
    from transformers import BitsAndBytesConfig

    compute = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute,
    )


def peft_config(peft, task_type: str = "CAUSAL_LM"):
    if peft.method == "none":
        return None
    if peft.method == "prompt_tuning":
        from peft import PromptTuningConfig

        return PromptTuningConfig(task_type=task_type, num_virtual_tokens=peft.num_virtual_tokens)
    from peft import LoraConfig

    targets = peft.target_modules
    return LoraConfig(
        task_type=task_type,
        r=peft.r,
        lora_alpha=peft.alpha,
        lora_dropout=peft.dropout,
        target_modules=targets[0] if targets == ["all-linear"] else targets,
        use_dora=peft.use_dora,
    )


def load_base(model_path: Path, peft, *, sequence_classification: bool = False):
    """The model to train: a full model, an existing adapter's base + adapter, or a 4-bit base for QLoRA."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    path = Path(model_path)
    kwargs: dict[str, Any] = {}
    quant = quantization_config(peft)
    if quant is not None:
        kwargs["quantization_config"] = quant
    if (path / "adapter_config.json").exists():  # an adapter version: merge it into its base first
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path).merge_and_unload()
        if sequence_classification:
            raise ValueError("start the reward model from a full model (merge the adapter first)")
        return model
    if sequence_classification:
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, **kwargs)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    if quant is not None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model


def save_outputs(trainer, tokenizer, ctx, *, peft, kind_hint: str, parents: list[str], metadata: dict) -> ArtifactSpec:
    """Save the final weights in HF / PEFT format; an adapter artifact when PEFT was used, else a model."""
    is_adapter = peft.method != "none"
    out = ctx.folder / ("adapter" if is_adapter else "model")
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return ArtifactSpec(
        "adapter" if is_adapter else "model",
        out,
        name=kind_hint,
        parents=parents,
        metadata={**metadata, "peft": peft.method},
    )


def run_trainer(trainer, callback: ContextCallback, ctx) -> Any:
    """Train (resuming from the newest checkpoint in the job folder); raise JobCancelled if the job was cancelled."""
    resume = last_trainer_checkpoint(ctx)
    if resume:
        ctx.log(f"resuming from {Path(resume).name}")
    result = trainer.train(resume_from_checkpoint=resume)
    if callback.cancelled:
        raise JobCancelled()
    return result


def train_and_save(
    trainer,
    callback: ContextCallback,
    ctx,
    tokenizer,
    *,
    peft,
    kind_hint: str,
    parents: list[str],
    summary: dict[str, Any],
    metadata: dict[str, Any],
):
    """Train (resuming), evaluate on the validation split if there is one, save and describe the output."""
    from ..runners.base import RunResult

    result = run_trainer(trainer, callback, ctx)
    summary = {"train_loss": result.training_loss, "steps": result.global_step, **summary}
    if trainer.eval_dataset is not None:
        summary.update({k: v for k, v in trainer.evaluate().items() if isinstance(v, float)})
    spec = save_outputs(trainer, tokenizer, ctx, peft=peft, kind_hint=kind_hint, parents=parents, metadata=metadata)
    return RunResult(summary=summary, artifacts=[spec])
