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
from pretrain_cpu_loops import SEQ_LEN, measure_raw, measure_runner, model_config, time_optimizers  # noqa: E402
from pretrain_throughput_report import print_report, summarize  # noqa: E402

RESULT_MARK = "BENCH-RESULT "


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
    print_report(args, facts, options, peak_before, peak_after, runs, as_worker, summary, sweep_rows, seq_len=SEQ_LEN)
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


if __name__ == "__main__":
    raise SystemExit(main())
