"""Pretraining throughput on this CPU: the runner against a hand-written PyTorch loop, MFU, and what closes the gap.

One run measures, on the same model (llama, 6 layers, 384 hidden, seq 256: the ``small`` preset), the same token
shards (the standard library's docstrings, BPE vocab 8192; bench/common_shards.py) and the same batches:

1. the matmul rate of this machine in fp32 and bf16, at 1 and all threads, two matrix sizes: per wall-clock second
   and per CPU-second of the process;
2. the runner (``training.runners.pretrain.run`` in a ``LocalContext``, fp32) and a minimal PyTorch loop written
   here (same ``build_model``, same ``PackedWindows`` order, same micro-batch and accumulation, ``torch.optim.AdamW``
   with its defaults, plain fp32 forward/backward/step), with per-step timestamps taken the same way for both
   (bench/pretrain_timing.py); target: runner tokens/s ÷ raw tokens/s ≥ 0.95. MFU of both against the fp32 matmul
   rate. Then the runner once more with nothing set but the shape, as a CPU worker runs it (precision "auto");
3. a sweep of settings, one factor at a time around the runner's CPU defaults, each in a fresh subprocess (thread
   pools, OpenMP's environment and compile caches never leak between settings): OpenMP wait policy and threads,
   micro-batch size, the defaults before this benchmark, bf16 autocast, and ``torch.compile`` with ``--compile``.

On a machine shared with other work the wall clock measures the neighbours as much as the code: the
``tokens/CPU-s`` columns (process CPU time, all threads) show what the process did with the time it was given, and
the sweep is judged on them (on wall-clock for the thread count).

Usage: ``python bench/pretrain_throughput.py`` (about 5 minutes on an idle 2-core machine, longer when shared;
``--no-sweep`` for the comparison alone, ``--quick`` for a short smoke run, ``--compile`` to add torch.compile,
which compiles for ~2 minutes here). Results: tables on stdout, JSON in var/bench/. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from training.pretraining.cpu_defaults import apply_cpu_env_defaults  # noqa: E402  (no torch import)

if "--child" not in sys.argv:  # a sweep child runs with exactly the environment its setting names
    apply_cpu_env_defaults()  # what a CPU worker gets: must precede the first torch import of the process

import common_shards  # noqa: E402
import harness  # noqa: E402
from pretrain_timing import Marks, time_runner  # noqa: E402

SEQ_LEN = 256
RESULT_MARK = "BENCH-RESULT "


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


# --- the sweep (one subprocess per setting) ------------------------------------------------------------------------


def sweep_child(payload: dict) -> dict:
    """Runs in a fresh process: one setting of the raw loop (plus AdamW timings when asked)."""
    shards = Path(payload["shards"])
    options = payload["options"]
    started = time.perf_counter()
    result = measure_raw(shards, options, payload["steps"], payload["warmup"])
    result["wall_seconds"] = time.perf_counter() - started
    if payload.get("time_optimizers"):
        result["optimizer_step_seconds"] = time_optimizers(shards, options["threads"])
    return result


def run_child(shards: Path, options: dict, *, steps: int, warmup: int, env: dict, timeout: float, **extra) -> dict:
    """One setting in a fresh interpreter; ``env`` values of None remove the variable."""
    payload = {"shards": str(shards), "options": options, "steps": steps, "warmup": warmup, **extra}
    child_env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    for key, value in env.items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(HERE), "--child", json.dumps(payload)],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s (time box)", "wall_seconds": time.perf_counter() - started}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    return {"error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}"}


def accum_for(micro_batch: int, global_tokens: int) -> int:
    return max(1, round(global_tokens / (micro_batch * SEQ_LEN)))


def sweep_settings(args, default_micro: int, cores: int) -> list[tuple[str, str, dict, dict]]:
    """(group, label, options, env): one factor at a time around the runner's CPU defaults."""
    passive = {"OMP_WAIT_POLICY": "PASSIVE"}
    default = {"micro_batch": default_micro, "threads": cores, "optimizer": "fused", "precision": "fp32"}
    rows = [
        (
            "before",
            "runner defaults before this benchmark",
            {**default, "optimizer": "single"},
            {"OMP_WAIT_POLICY": None},
        ),
        ("default", "CPU defaults, fp32", default, passive),
        ("threads", f"{cores} threads, OpenMP spinning", default, {"OMP_WAIT_POLICY": "ACTIVE"}),
        ("threads", "1 thread", {**default, "threads": 1}, passive),
    ]
    rows += [
        ("micro-batch", f"micro-batch {mb}", {**default, "micro_batch": mb}, passive)
        for mb in args.sweep_micro
        if mb != default_micro
    ]
    if args.compile:
        rows.append(("compile", "torch.compile", {**default, "compile": True}, passive))
    rows.append(("precision", "bf16 autocast", {**default, "precision": "bf16"}, passive))
    rows.append(("default", "CPU defaults, fp32 (again: drift)", default, passive))
    return rows


def sweep(shards: Path, args, bar, default_micro: int, cores: int) -> list[dict]:
    rows: list[dict] = []
    for i, (group, label, options, env) in enumerate(sweep_settings(args, default_micro, cores)):
        options = {**options, "accum": accum_for(options["micro_batch"], args.sweep_global_tokens)}
        timeout = args.compile_timeout if options.get("compile") else args.child_timeout
        step_tokens = options["micro_batch"] * options["accum"] * SEQ_LEN
        steps = max(args.sweep_warmup + 2, math.ceil(args.sweep_tokens / step_tokens))
        bar.set_description(f"sweep: {label}"[:40])
        result = run_child(
            shards, options, steps=steps, warmup=args.sweep_warmup, env=env, timeout=timeout, time_optimizers=i == 0
        )
        rows.append({"group": group, "label": label, "options": options, "env": env, "loadavg": _loadavg(), **result})
        bar.update(1)
    return rows


# --- main ----------------------------------------------------------------------------------------------------------


def _loadavg() -> list[str]:
    with contextlib.suppress(OSError):
        return Path("/proc/loadavg").read_text().split()[:3]
    return []


def matmul_rate(precision: str, n: int, seconds: float) -> tuple[float, float]:
    """(FLOP per wall second, FLOP per process-CPU second) of an n x n matmul: the second is what the cores did with
    the time the scheduler gave them, so it survives a machine shared with other work."""
    import torch

    dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    count, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        a @ b
        count += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return 2 * n**3 * count / wall, 2 * n**3 * count / max(cpu, 1e-9)


def peaks(threads_list: list[int], sizes: list[int], seconds: float) -> dict:
    """Best matmul rate over ``sizes`` per precision and thread count (wall and per CPU-second)."""
    import torch

    out: dict = {"fp32": {}, "bf16": {}}
    before = torch.get_num_threads()
    for threads in threads_list:
        torch.set_num_threads(threads)
        for precision in ("fp32", "bf16"):
            rates = {n: matmul_rate(precision, n, seconds) for n in sizes}
            out[precision][threads] = {
                "by_size": {n: {"wall": w, "per_cpu_s": c} for n, (w, c) in rates.items()},
                "best": max(w for w, _ in rates.values()),
                "best_per_cpu_s": max(c for _, c in rates.values()),
            }
    torch.set_num_threads(before)
    return out


def cpu_facts() -> dict:
    import torch

    from training.pretraining.precision import cpu_has_native_bf16

    facts = harness.machine_info()
    facts.update(
        torch=torch.__version__,
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        avx512_bf16=bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()),
        amx=bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()),
        native_bf16_detected=cpu_has_native_bf16(),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "(unset)"),
    )
    return facts


def _fmt(x, digits=0):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:,.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per comparison run")
    parser.add_argument("--warmup", type=int, default=2, help="steps left out of the steady-state median")
    parser.add_argument("--micro-batch", type=int, default=None, help="default: the runner's default")
    parser.add_argument("--accum", type=int, default=2, help="gradient accumulation micro-steps per step")
    parser.add_argument("--threads", type=int, default=None, help="default: the runner's CPU default")
    parser.add_argument("--rounds", type=int, default=1, help="raw/runner pairs, alternating order (ABBA...)")
    parser.add_argument("--probe-seconds", type=float, default=1.0, help="seconds per matmul peak probe")
    parser.add_argument("--no-sweep", dest="sweep", action="store_false", help="skip the settings sweep")
    parser.add_argument(
        "--compile", action="store_true", help="add a torch.compile setting to the sweep (compiling takes ~2 min here)"
    )
    parser.add_argument("--sweep-micro", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--sweep-tokens", type=int, default=12288, help="tokens per sweep setting (warmup included)")
    parser.add_argument("--sweep-warmup", type=int, default=1, help="steps per sweep setting left out of the median")
    parser.add_argument("--sweep-global-tokens", type=int, default=4096, help="tokens per step in the sweep")
    parser.add_argument("--child-timeout", type=float, default=240)
    parser.add_argument("--compile-timeout", type=float, default=420, help="time box for the torch.compile setting")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 steps, no sweep")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(RESULT_MARK + json.dumps(sweep_child(json.loads(args.child))), flush=True)
        return 0
    if args.quick:
        args.steps, args.warmup, args.sweep = 3, 1, False

    from tqdm import tqdm
    from transformers.utils import logging as hf_logging

    from training.pretraining.cpu_defaults import cpu_threads
    from training.pretraining.hardware import peak_flops

    hf_logging.disable_progress_bar()
    shards = common_shards.docstring_shards(log=lambda s: tqdm.write(s))
    micro = args.micro_batch or model_config(shards).micro_batch_size
    threads = args.threads or cpu_threads()
    facts = cpu_facts()
    print(
        f"machine: {facts.get('cpu')} · {facts['cores']} cores · {facts.get('ram_gib')} GiB · torch {facts['torch']}"
        f" · {facts['cpu_capability']} · avx512_bf16 {facts['avx512_bf16']} · load {facts.get('loadavg_at_start')}"
    )
    n_sweep = len(sweep_settings(args, micro, threads)) if args.sweep else 0
    bar = tqdm(total=(2 * args.rounds + 1) * args.steps + n_sweep, unit="step", dynamic_ncols=True)
    bar.set_description("matmul rate probe")
    peak_before = peaks(sorted({1, threads}), [1024, 2048], args.probe_seconds)

    options = {"micro_batch": micro, "accum": args.accum, "threads": threads, "precision": "fp32"}
    runs: dict[str, list[dict]] = {"raw": [], "runner": []}
    order = []
    for r in range(args.rounds):
        order += ["raw", "runner"] if r % 2 == 0 else ["runner", "raw"]
    for kind in order:
        bar.set_description(f"{kind} loop, fp32")
        measure = measure_raw if kind == "raw" else measure_runner
        result = measure(shards, options, args.steps, args.warmup, bar)
        result["loadavg_after"] = _loadavg()
        runs[kind].append(result)
    bar.set_description("runner, CPU defaults")
    as_worker = measure_runner(shards, {"micro_batch": micro, "accum": args.accum}, args.steps, args.warmup, bar)
    as_worker["loadavg_after"] = _loadavg()

    sweep_rows = sweep(shards, args, bar, micro, threads) if args.sweep else []
    bar.close()
    peak_after = peaks([threads], [1024, 2048], args.probe_seconds)

    summary = summarize(runs, peak_before, peak_after, threads)
    summary["runner_own_probe_flops"] = peak_flops("cpu", "fp32")[0]  # cached: what the runner's metric used
    precision = as_worker["precision"]
    summary["as_worker"] = {
        "precision": precision,
        "tokens_per_s": as_worker["tokens_per_s_median"],
        "tokens_per_cpu_s": as_worker["tokens_per_cpu_s_median"],
        "speedup_per_cpu_s_over_fp32_runner": as_worker["tokens_per_cpu_s_median"] / summary["runner_tokens_per_cpu_s"],
        "mfu_vs_fp32_peak": summary["flops_per_token"] * as_worker["tokens_per_s_median"] / summary["fp32_peak_flops"],
        "mfu_per_cpu_s_vs_own_precision_peak": summary["flops_per_token"]
        * as_worker["tokens_per_cpu_s_median"]
        / peak_before["bf16" if precision == "bf16" else "fp32"][threads]["best_per_cpu_s"],
    }
    print_report(args, facts, options, peak_before, peak_after, runs, as_worker, summary, sweep_rows)
    path = harness.write_results(
        "pretrain_throughput",
        {
            "machine": facts,
            "settings": {
                **options,
                "seq_len": SEQ_LEN,
                "steps": args.steps,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "sweep_global_tokens": args.sweep_global_tokens,
                "sweep_tokens": args.sweep_tokens,
            },
            "peak_before": peak_before,
            "peak_after": peak_after,
            "runs": runs,
            "runner_with_cpu_defaults": as_worker,
            "summary": summary,
            "sweep": sweep_rows,
            "loadavg_at_end": _loadavg(),
        },
    )
    print(f"\nresults: {path}")
    return 0


def summarize(runs: dict, peak_before: dict, peak_after: dict, threads: int) -> dict:
    flops = runs["raw"][0]["flops_per_token"]

    def pooled(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    out = {"flops_per_token": flops}
    for kind in ("runner", "raw"):
        out[f"{kind}_tokens_per_s"] = pooled(kind, "tokens_per_s_median")
        out[f"{kind}_end_to_end_tokens_per_s"] = pooled(kind, "end_to_end_tokens_per_s")
        out[f"{kind}_tokens_per_cpu_s"] = pooled(kind, "tokens_per_cpu_s_median")
    out["ratio_steady"] = out["runner_tokens_per_s"] / out["raw_tokens_per_s"]
    out["ratio_end_to_end"] = out["runner_end_to_end_tokens_per_s"] / out["raw_end_to_end_tokens_per_s"]
    out["ratio_per_cpu_s"] = out["runner_tokens_per_cpu_s"] / out["raw_tokens_per_cpu_s"]
    peak = max(peak_before["fp32"][threads]["best"], peak_after["fp32"][threads]["best"])
    peak_cpu = max(peak_before["fp32"][threads]["best_per_cpu_s"], peak_after["fp32"][threads]["best_per_cpu_s"])
    out["fp32_peak_flops"] = peak
    out["fp32_peak_flops_per_cpu_s"] = peak_cpu
    for kind in ("runner", "raw"):
        out[f"{kind}_mfu"] = flops * out[f"{kind}_tokens_per_s"] / peak
        out[f"{kind}_mfu_per_cpu_s"] = flops * out[f"{kind}_tokens_per_cpu_s"] / peak_cpu
    return out


def print_report(args, facts, options, peak_before, peak_after, runs, as_worker, summary, sweep_rows) -> None:
    threads, flops = options["threads"], summary["flops_per_token"]
    print()
    print(f"matmul rate, GFLOP/s (best of n=1024/2048, {args.probe_seconds:.1f} s each; wall and per CPU-second):")
    rows = []
    for label, table in (("before", peak_before), ("after", peak_after)):
        for t in sorted(table["fp32"]):
            rows.append(
                [
                    f"{t} thread(s), {label}",
                    _fmt(table["fp32"][t]["best"] / 1e9, 1),
                    _fmt(table["fp32"][t]["best_per_cpu_s"] / 1e9, 1),
                    _fmt(table["bf16"][t]["best"] / 1e9, 1),
                    _fmt(table["bf16"][t]["best_per_cpu_s"] / 1e9, 1),
                ]
            )
    print(harness.table(rows, ["threads", "fp32", "fp32/CPU-s", "bf16", "bf16/CPU-s"]))
    print(f"(the runner's own start-up probe, fp32 n=1024 for 0.5 s: {summary['runner_own_probe_flops'] / 1e9:.1f})")
    print()
    print(
        f"runner vs raw loop: llama small (6x384), seq {SEQ_LEN}, micro-batch {options['micro_batch']} x accum "
        f"{options['accum']}, {threads} thread(s), OMP_WAIT_POLICY={facts['omp_wait_policy']}, {args.steps} steps "
        f"({args.warmup} warmup), {flops / 1e6:.1f} MFLOP/token"
    )
    peak, peak_cpu = summary["fp32_peak_flops"], summary["fp32_peak_flops_per_cpu_s"]
    rows = []
    labelled = [(f"{kind}, fp32", r) for kind in ("raw", "runner") for r in runs[kind]]
    labelled.append((f"runner, CPU defaults ({as_worker['precision']})", as_worker))
    for label, r in labelled:
        rows.append(
            [
                label,
                _fmt(r["tokens_per_s_median"]),
                _fmt(r["tokens_per_s_best"]),
                _fmt(r["end_to_end_tokens_per_s"]),
                _fmt(r["tokens_per_cpu_s_median"]),
                f"{flops * r['tokens_per_s_median'] / peak:.1%}",
                f"{flops * r['tokens_per_cpu_s_median'] / peak_cpu:.1%}",
                f"{r['cpu_utilisation']:.2f}",
                " ".join(r["loadavg_after"]),
            ]
        )
    header = ["loop", "tokens/s", "best", "end-to-end", "tokens/CPU-s", "MFU", "MFU/CPU-s", "cores used", "load"]
    print(harness.table(rows, header))
    print(
        f"runner ÷ raw: steady {summary['ratio_steady']:.3f} · end-to-end {summary['ratio_end_to_end']:.3f} · "
        f"per CPU-second {summary['ratio_per_cpu_s']:.3f} (target ≥ 0.95)"
    )
    print(
        f"MFU vs the {threads}-thread fp32 matmul rate ({peak / 1e9:.1f} GFLOP/s wall, {peak_cpu / 1e9:.1f} per "
        f"CPU-second): runner {summary['runner_mfu']:.1%} ({summary['runner_mfu_per_cpu_s']:.1%} per CPU-second), "
        f"raw {summary['raw_mfu']:.1%} ({summary['raw_mfu_per_cpu_s']:.1%})"
    )
    w = summary["as_worker"]
    print(
        f"runner with CPU defaults ({w['precision']}): {w['speedup_per_cpu_s_over_fp32_runner']:.2f}x the fp32 runner "
        f"per CPU-second; MFU per CPU-second vs the {w['precision']} matmul rate "
        f"{w['mfu_per_cpu_s_vs_own_precision_peak']:.1%}"
    )
    if not sweep_rows:
        return
    print()
    print(
        f"sweep (raw loop, {args.sweep_global_tokens} tokens/step, ~{args.sweep_tokens} tokens per setting, "
        f"{args.sweep_warmup} warmup step; one factor at a time around the CPU defaults):"
    )
    rows = []
    for r in sweep_rows:
        o = r["options"]
        table = peak_before["bf16" if o.get("precision") == "bf16" else "fp32"]
        probe = table.get(o["threads"]) or table[max(table)]
        wait = {None: "omp default", "ACTIVE": "spin", "PASSIVE": "sleep"}[r["env"].get("OMP_WAIT_POLICY")]
        setting = f"{o['micro_batch']}x{o['accum']}, {o['threads']}t {wait}, {o.get('optimizer')}"
        if "error" in r:
            rows.append([r["group"], r["label"], setting, "-", "-", "-", "-", r["error"][:70]])
            continue
        rows.append(
            [
                r["group"],
                r["label"],
                setting,
                _fmt(r["tokens_per_s_median"]),
                _fmt(r["tokens_per_cpu_s_median"]),
                f"{flops * r['tokens_per_s_median'] / probe['best']:.1%}",
                f"{flops * r['tokens_per_cpu_s_median'] / probe['best_per_cpu_s']:.1%}",
                " ".join(r["loadavg"]),
            ]
        )
    print(harness.table(rows, ["group", "setting", "options", "tokens/s", "tokens/CPU-s", "MFU", "MFU/CPU-s", "load"]))
    print("(MFU of the bf16 row is against the bf16 matmul rate)")
    timings = sweep_rows[0].get("optimizer_step_seconds")
    if timings:
        print("AdamW step + clip, seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in timings.items()))
    for r in sweep_rows:
        if r["group"] == "compile" and "first_step_seconds" in r:
            print(f"torch.compile: first step (compiling) {r['first_step_seconds']:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
