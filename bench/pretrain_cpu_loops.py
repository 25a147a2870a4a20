"""The two loops bench/pretrain_throughput.py compares on this CPU, on the same model, data and batches: the
runner (``time_runner``) and the hand-written floor it is held to (``RawLoop``); and AdamW's implementations timed
alone. torch is imported inside the functions: the caller sets the CPU environment first."""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

from pretrain_timing import Marks, time_runner

SEQ_LEN = 256


# --- the hand-written loop ---------------------------------------------------------------------------------------


def model_config(shards: Path, **overrides):
    from training.configs import from_dict
    from training.runners.pretrain import PretrainConfig

    base = {"input": str(shards), "architecture": "llama", "preset": "small", "seq_len": SEQ_LEN}
    return from_dict(PretrainConfig, {**base, **overrides})


class RawLoop:
    """The floor the runner is held to: forward, cross-entropy, backward (with accumulation), clip, AdamW step.

    ``options``: micro_batch, accum, threads, compile, optimizer (single | foreach | fused), precision (fp32 | bf16).
    """

    def __init__(self, shards: Path, options: dict):
        import torch
        from transformers import AutoTokenizer

        from training.pretraining.data import PackedWindows, TokenSplit
        from training.pretraining.models import build_model, training_flops_per_token

        self.o = options
        torch.set_num_threads(options["threads"])
        config = model_config(shards)
        tokenizer = AutoTokenizer.from_pretrained(shards / "../tokenizer")
        self.data = PackedWindows(TokenSplit(shards, "train"), SEQ_LEN, config.seed)
        self.model = build_model(config, tokenizer)
        self.model.train()
        self.flops_per_token = training_flops_per_token(self.model, SEQ_LEN)
        kind = options.get("optimizer", "single")
        flags = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[kind]
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2), weight_decay=0.1, **flags
        )
        self.forward = torch.compile(self.model) if options.get("compile") else self.model
        self.position = 0
        self.tokens_per_step = options["micro_batch"] * options["accum"] * SEQ_LEN

    def step(self) -> float:
        import torch
        import torch.nn.functional as F

        mb, accum = self.o["micro_batch"], self.o["accum"]
        total = 0.0
        for micro in range(accum):
            tokens = torch.from_numpy(self.data.batch(self.position + micro * mb, mb))
            cast = (
                torch.autocast("cpu", dtype=torch.bfloat16)
                if self.o.get("precision") == "bf16"
                else contextlib.nullcontext()
            )
            with cast:
                logits = self.forward(input_ids=tokens[:, :-1]).logits
            loss = F.cross_entropy(logits.float().flatten(0, 1), tokens[:, 1:].flatten())
            (loss / accum).backward()
            total += float(loss.detach())
        self.position += mb * accum
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total / accum


def measure_raw(shards: Path, options: dict, steps: int, warmup: int, bar=None) -> dict:
    loop = RawLoop(shards, options)
    marks = Marks()
    marks.start = marks.now()
    for _ in range(steps):
        marks.losses.append(loop.step())
        marks.steps.append(marks.now())
        if bar is not None:
            bar.update(1)
    out = marks.summary(loop.tokens_per_step, warmup)
    out["flops_per_token"] = loop.flops_per_token
    if options.get("compile"):
        out["first_step_seconds"] = out["step_seconds"][0]
    return out


def time_optimizers(shards: Path, threads: int, repeats: int = 5) -> dict[str, float]:
    """Seconds per AdamW step (with clipping) for each implementation, on this model's parameters."""
    import torch

    loop = RawLoop(shards, {"micro_batch": 1, "accum": 1, "threads": threads})
    params = list(loop.model.parameters())
    out = {}
    for kind, flags in (("single", {"foreach": False}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1, **flags)
        times = []
        for i in range(repeats + 1):
            for p in params:
                p.grad = torch.full_like(p, 1e-3)
            t = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            if i:
                times.append(time.perf_counter() - t)
        out[kind] = statistics.median(times)
    return out


def measure_runner(shards: Path, options: dict, steps: int, warmup: int, bar=None) -> dict:
    """The runner on the same shape and batches; ``options`` left out (threads, precision) take its defaults."""
    overrides = {
        "micro_batch_size": options["micro_batch"],
        "global_batch_tokens": options["micro_batch"] * options["accum"] * SEQ_LEN,
        "max_steps": steps,
        "warmup_steps": min(2, steps),
        "eval_every": 0,
        "eval_batches": 1,
        "checkpoint_every": 0,
        "sample_prompts": ["The"],
        "sample_max_new_tokens": 8,
    }
    if options.get("threads"):
        overrides["num_threads"] = options["threads"]
    if options.get("precision"):
        overrides["precision"] = options["precision"]
    return time_runner(model_config(shards, **overrides), warmup, bar)
