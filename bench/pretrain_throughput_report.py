"""bench/pretrain_throughput.py's summary (medians, ratios, MFU) and its printed report."""

from __future__ import annotations

import math
import statistics

import harness


def _fmt(x, digits=0):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:,.{digits}f}"


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


def print_report(
    args, facts, options, peak_before, peak_after, runs, as_worker, summary, sweep_rows, *, seq_len: int
) -> None:
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
        f"runner vs raw loop: llama small (6x384), seq {seq_len}, micro-batch {options['micro_batch']} x accum "
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
