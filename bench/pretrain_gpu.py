"""Pretraining throughput on a GPU (made for the device machine's H200): the runner at GPT-2 124M shape.

GPT-2 small (12 layers, 768 hidden, 12 heads; vocab 50304, padded from 50257 to a multiple of 128), seq 1024, bf16
autocast, PyTorch SDPA (flash attention), ``torch.compile`` and fused AdamW, through the real runner
(``training.runners.pretrain.run``). For each micro-batch size in a sweep it reports tokens/s and MFU: model FLOPs
(6·N + 12·L·H·T per token) ÷ the dense bf16 peak from ``training.pretraining.hardware`` (989 TFLOP/s on an H200;
target ≥ 45%), beside MFU against a bf16 matmul rate measured here. At the best micro-batch it then runs a minimal
hand-written loop (compiled model, bf16, fused AdamW) on the same data for the runner ÷ raw ratio.

The tokens are random ids for a byte-level BPE of exactly 50304 entries built here (bench/common_shards.py):
nothing is downloaded, and throughput does not depend on what the tokens say.

Usage, from the repository root, with torch and transformers installed:
    python bench/pretrain_gpu.py                      # the H200 run: ~4 minutes, most of it compiling
    python bench/pretrain_gpu.py --micro-batches 32   # one setting
    python bench/pretrain_gpu.py --smoke              # tiny model, few steps, any device (CPU included)
    python bench/pretrain_gpu.py --deepspeed zero3 --zero-offload optimizer   # the runner under DeepSpeed ZeRO
                                                      # (one process: the engine, NCCL, bf16 and offload on the GPU)
Results: a table on stdout and JSON in $OUT if set, else var/bench/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

import common_shards  # noqa: E402
import harness  # noqa: E402
from pretrain_gpu_device import device_facts, flash_attention_usable, matmul_rate, peak_memory_gib, release  # noqa: E402
from pretrain_timing import Marks, time_runner  # noqa: E402


class RawLoop:
    """nanoGPT's loop on the runner's model and data: compiled model, autocast, fused AdamW, pinned async copies."""

    def __init__(self, config, tokenizer, shards: Path, device, precision: str):
        import torch

        from training.pretraining.data import PackedWindows, TokenSplit
        from training.pretraining.models import build_model, training_flops_per_token

        self.config, self.device = config, device
        self.model = build_model(config, tokenizer).to(device)
        self.flops_per_token = training_flops_per_token(self.model, config.seq_len)
        self.forward = torch.compile(self.model) if config.compile else self.model
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2), fused=device.type == "cuda"
        )
        self.data = PackedWindows(TokenSplit(shards, "train"), config.seq_len, config.seed)
        self.accum = max(1, round(config.global_batch_tokens / (config.seq_len * config.micro_batch_size)))
        self.tokens_per_step = self.accum * config.seq_len * config.micro_batch_size
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.position = 0

    def step(self) -> float:
        import torch
        import torch.nn.functional as F

        mb = self.config.micro_batch_size
        total = torch.zeros((), device=self.device)
        for micro in range(self.accum):
            batch = torch.from_numpy(self.data.batch(self.position + micro * mb, mb))
            if self.device.type == "cuda":
                batch = batch.pin_memory().to(self.device, non_blocking=True)
            cast = (
                torch.autocast(self.device.type, dtype=self.dtype)
                if self.dtype is not None
                else contextlib.nullcontext()
            )
            with cast:
                logits = self.forward(input_ids=batch[:, :-1]).logits
            loss = F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())
            (loss / self.accum).backward()
            total += loss.detach()
        self.position += mb * self.accum
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        value = float(total) / self.accum
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return value


def time_raw(config, tokenizer, shards, device, precision: str, warmup: int) -> dict:
    loop = RawLoop(config, tokenizer, shards, device, precision)
    marks = Marks()
    marks.start = marks.now()
    for _ in range(config.max_steps):
        marks.losses.append(loop.step())
        marks.steps.append(marks.now())
    out = marks.summary(loop.tokens_per_step, warmup)
    out["flops_per_token"] = loop.flops_per_token
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--micro-batches", type=int, nargs="+", default=None, help="default: 64 32 16")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps per setting (default 14)")
    parser.add_argument("--warmup", type=int, default=None, help="steps left out of the median (default 4)")
    parser.add_argument("--seq-len", type=int, default=None, help="default 1024")
    parser.add_argument("--global-batch-tokens", type=int, default=None, help="default 262144 (2^18)")
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    parser.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile (default: on a GPU)"
    )
    parser.add_argument("--no-raw", dest="raw", action="store_false", help="skip the hand-written loop")
    parser.add_argument("--budget-s", type=float, default=270, help="skip settings that would start after this")
    parser.add_argument("--smoke", action="store_true", help="tiny GPT-2, a few steps, any device")
    parser.add_argument(
        "--deepspeed", choices=["zero2", "zero3"], default=None, help="run the runner under DeepSpeed ZeRO (no compile)"
    )
    parser.add_argument("--zero-offload", default="none", choices=["none", "optimizer", "optimizer_and_params"])
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from training.configs import from_dict
    from training.pretraining.hardware import peak_flops
    from training.pretraining.precision import choose_precision
    from training.runners.pretrain import PretrainConfig

    hf_logging.disable_progress_bar()
    started = time.perf_counter()
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if device.type != "cuda" and not args.smoke:
        print("no CUDA device here: this benchmark is for a GPU machine (use --smoke to check it runs)")
        return 2
    if args.smoke:
        shape = {"preset": "custom", "n_layers": 2, "hidden_size": 128, "n_heads": 4, "intermediate_size": 512}
        micro_batches = args.micro_batches or [2, 4]
        steps, warmup = args.steps or 3, args.warmup if args.warmup is not None else 1
        seq_len, global_tokens = args.seq_len or 128, args.global_batch_tokens or 1024
        shard_tokens = 200_000
    else:
        shape = {"preset": "125m"}
        micro_batches = args.micro_batches or [64, 32, 16]
        steps, warmup = args.steps or 14, args.warmup if args.warmup is not None else 4
        seq_len, global_tokens = args.seq_len or 1024, args.global_batch_tokens or 2**18
        shard_tokens = 8_000_000
    if args.compile is None:
        args.compile = device.type == "cuda" and not args.deepspeed  # the runner compiles only without DeepSpeed
    strategy = (
        {"distributed": f"deepspeed_{args.deepspeed}", "zero_offload": args.zero_offload} if args.deepspeed else {}
    )
    shards = common_shards.random_token_shards(vocab_size=50304, tokens=shard_tokens, validation=False)
    tokenizer = AutoTokenizer.from_pretrained(shards / "../tokenizer")
    precision = choose_precision(args.precision, device, cpu_bf16=True)  # what the runner picks

    def config_for(micro_batch: int):
        return from_dict(
            PretrainConfig,
            {
                "input": str(shards),
                "architecture": "gpt2",
                **shape,
                "seq_len": seq_len,
                "micro_batch_size": micro_batch,
                "global_batch_tokens": max(global_tokens, micro_batch * seq_len),
                "max_steps": steps,
                "warmup_steps": min(steps, 10),
                "lr": 6e-4,
                "eval_every": 0,
                "checkpoint_every": 0,
                "keep_checkpoints": 1,
                "precision": args.precision,
                "compile": args.compile,
                "sample_prompts": ["The"],
                "sample_max_new_tokens": 8,
                **strategy,
            },
        )

    facts = device_facts(device)
    peak, peak_source = peak_flops(device.type, precision)
    matmul_n = 8192 if device.type == "cuda" else 512
    measured = matmul_rate(device, precision, matmul_n)
    flash = flash_attention_usable(config_for(micro_batches[0]), tokenizer, device)
    print(
        f"{facts.get('gpu') or facts.get('cpu')} · torch {facts['torch']} · transformers {facts['transformers']} · "
        f"precision {precision} · compile {args.compile} · flash attention: {flash}"
        + (f" · DeepSpeed {args.deepspeed}, offload {args.zero_offload}" if args.deepspeed else "")
    )
    unit, scale = ("TFLOP/s", 1e12) if device.type == "cuda" else ("GFLOP/s", 1e9)
    print(
        f"peak {peak / scale:.1f} {unit} ({peak_source}); measured matmul {measured / scale:.1f} {unit} "
        f"({precision} {matmul_n}^3)"
    )

    rows, results = [], []
    for mb in micro_batches:
        elapsed = time.perf_counter() - started
        if results and elapsed > args.budget_s:
            results.append(
                {"micro_batch": mb, "error": f"skipped: {elapsed:.0f} s past the {args.budget_s:.0f} s budget"}
            )
            continue
        config = config_for(mb)
        release(device)
        t0 = time.perf_counter()
        try:
            r = time_runner(config, warmup)
        except Exception as exc:  # an out-of-memory setting is a result, not the end of the sweep
            results.append({"micro_batch": mb, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            traceback.print_exc(limit=2)
            continue
        r.update(micro_batch=mb, wall_seconds=time.perf_counter() - t0, peak_memory_gib=peak_memory_gib(device))
        r["flops_per_token"] = flops_per_token(config, tokenizer)
        _add_mfu(r, peak, measured)
        results.append(r)
        print(
            f"micro-batch {mb}: {r['tokens_per_s_median']:,.0f} tokens/s, MFU {r['mfu']:.1%} "
            f"(runner's own metric {r['runner_metric_mfu_median']:.1%}), first step {r['step_seconds'][0]:.1f} s, "
            f"peak memory {r['peak_memory_gib']} GiB",
            flush=True,
        )

    ok = [r for r in results if "error" not in r]
    raw = None
    if ok and args.raw:
        best = max(ok, key=lambda r: r["tokens_per_s_median"])
        elapsed = time.perf_counter() - started
        if elapsed > args.budget_s + 60:
            raw = {"error": f"skipped: {elapsed:.0f} s past the budget"}
        else:
            release(device)
            try:
                raw = time_raw(config_for(best["micro_batch"]), tokenizer, shards, device, precision, warmup)
                raw["micro_batch"] = best["micro_batch"]
                _add_mfu(raw, peak, measured)
                raw["ratio_runner_over_raw"] = best["tokens_per_s_median"] / raw["tokens_per_s_median"]
                raw["peak_memory_gib"] = peak_memory_gib(device)
            except Exception as exc:
                raw = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}

    for r in results:
        if "error" in r:
            rows.append([f"runner mb {r['micro_batch']}", "-", "-", "-", "-", "-", r["error"][:60]])
        else:
            rows.append(_row(f"runner mb {r['micro_batch']}", r))
    if raw is not None:
        rows.append(
            _row(f"raw mb {raw['micro_batch']}", raw) if "error" not in raw else ["raw", *["-"] * 5, raw["error"]]
        )
    print()
    print(
        f"GPT-2 shape ({'smoke: 2x128' if args.smoke else '124M'}), seq {seq_len}, {global_tokens} tokens/step, "
        f"{steps} steps ({warmup} warmup), {precision}, compile {args.compile}"
    )
    print(harness.table(rows, ["loop", "tokens/s", "MFU", "MFU vs matmul", "first step s", "peak GiB", "note"]))
    if raw is not None and "ratio_runner_over_raw" in raw:
        print(f"runner ÷ raw at micro-batch {raw['micro_batch']}: {raw['ratio_runner_over_raw']:.3f}")
    if ok:
        best = max(ok, key=lambda r: r["tokens_per_s_median"])
        verdict = "meets" if best["mfu"] >= 0.45 else "misses"
        print(f"best: micro-batch {best['micro_batch']}, MFU {best['mfu']:.1%} ({verdict} the 45% target)")

    out_dir = Path(os.environ["OUT"]) if os.environ.get("OUT") else HERE.parent.parent / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = ("-smoke" if args.smoke else "") + (f"-{args.deepspeed}" if args.deepspeed else "")
    path = out_dir / f"pretrain_gpu{tag}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "device": facts,
        "precision": precision,
        "compile": args.compile,
        "deepspeed": strategy or None,
        "flash_attention": flash,
        "peak_flops": peak,
        "peak_source": peak_source,
        "measured_matmul_flops": measured,
        "settings": {
            "seq_len": seq_len,
            "global_batch_tokens": global_tokens,
            "steps": steps,
            "warmup": warmup,
            "shape": shape,
            "vocab_size": len(tokenizer),
        },
        "runner": results,
        "raw": raw,
        "total_seconds": time.perf_counter() - started,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nresults: {path} ({time.perf_counter() - started:.0f} s in all)")
    return 0 if ok else 1


def flops_per_token(config, tokenizer) -> float:
    """The runner's own count (training_flops_per_token), on a model built on the meta device (no memory)."""
    import torch

    from training.pretraining.models import build_model, training_flops_per_token

    with torch.device("meta"):
        model = build_model(config, tokenizer)
    return training_flops_per_token(model, config.seq_len)


def _add_mfu(r: dict, peak: float, measured: float) -> None:
    """MFU against the device's peak and against the matmul rate measured in this run."""
    r["mfu"] = r["flops_per_token"] * r["tokens_per_s_median"] / peak
    r["mfu_vs_measured_matmul"] = r["flops_per_token"] * r["tokens_per_s_median"] / measured


def _row(label: str, r: dict) -> list:
    return [
        label,
        f"{r['tokens_per_s_median']:,.0f}",
        f"{r['mfu']:.1%}",
        f"{r.get('mfu_vs_measured_matmul', float('nan')):.1%}",
        f"{r['step_seconds'][0]:.1f}",
        r.get("peak_memory_gib") or "-",
        "",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
