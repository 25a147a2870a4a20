"""Summaries and tables of bench/alignment_overhead.py's runs."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from _lockstep import steady

TARGET = 1.05
VARIANTS = ("direct", "runner", "job")


def summarize_lockstep(rounds: list[dict], args) -> dict:
    """Per method and variant: median and mean exclusive s/step (steps after the warm-up), and the median of the
    per-step paired ratios (step n of a variant ÷ step n of direct, same round)."""
    out: dict = {}
    for method in args.methods:
        mine = [r for r in rounds if r["method"] == method]
        per: dict = {}
        for variant in VARIANTS:
            wall = [w for r in mine for step, w, _ in r["samples"][variant] if step > args.warmup]
            cpu = [c for r in mine for step, _, c in r["samples"][variant] if step > args.warmup]
            per[variant] = {
                "s_per_step_p10": harness.percentile(wall, 10),
                "s_per_step_median": statistics.median(wall),
                "s_per_step_mean": statistics.fmean(wall),
                "cpu_s_per_step_median": statistics.median(cpu),
                "steps": len(wall),
            }
        for variant in ("runner", "job"):
            paired = []
            for r in mine:
                base = {step: w for step, w, _ in r["samples"]["direct"] if step > args.warmup}
                paired += [w / base[step] for step, w, _ in r["samples"][variant] if step in base]
            v = per[variant]
            v["paired_ratio_median"] = statistics.median(paired)
            for key in ("s_per_step_p10", "s_per_step_median", "s_per_step_mean", "cpu_s_per_step_median"):
                v[f"ratio_{key}"] = v[key] / per["direct"][key]
        out[method] = per
    return out


def record(args, method: str, variant: str, repeat: int, timing: dict, machine: float) -> dict:
    stamps = timing["stamps"]
    if len(stamps) != args.steps:
        raise RuntimeError(f"{method}/{variant}: {len(stamps)} step events for {args.steps} steps")
    wall, cpu = timing["wall"], timing["cpu"]
    return {
        "method": method,
        "variant": variant,
        "repeat": repeat,
        "total_wall_s": round(wall, 3),
        "total_cpu_s": round(cpu, 3),
        "outside_loop_s": round(wall - (stamps[-1][0] - stamps[0][0]), 3),  # load, data, trainer set-up, saving
        "context_ms_per_step": round(1000 * timing["context_s"] / args.steps, 4),
        "heartbeat_flush_s": round(timing["flush_s"], 4),
        "others_cpu_share": round(max(0.0, machine - cpu) / (wall * (os.cpu_count() or 1)), 3),
        **{k: [round(x, 5) for x in v] for k, v in steady(stamps, args.warmup).items()},
    }


def summarize(runs: list[dict], methods: list[str]) -> dict:
    out = {}
    for method in methods:
        per = {}
        for variant in VARIANTS:
            mine = [r for r in runs if r["method"] == method and r["variant"] == variant]
            wall = [x for r in mine for x in r["wall"]]
            cpu = [x for r in mine for x in r["cpu"]]
            per[variant] = {
                "s_per_step_median": statistics.median(wall),
                "s_per_step_mean": statistics.fmean(wall),
                "cpu_s_per_step_median": statistics.median(cpu),
                "total_wall_s_median": statistics.median(r["total_wall_s"] for r in mine),
                "outside_loop_s_median": statistics.median(r["outside_loop_s"] for r in mine),
                "context_ms_per_step": statistics.fmean(r["context_ms_per_step"] for r in mine),
                "heartbeat_flush_s": statistics.fmean(r["heartbeat_flush_s"] for r in mine),
                "others_cpu_share": statistics.fmean(r["others_cpu_share"] for r in mine),
                "intervals": len(wall),
            }
        for variant in ("runner", "job"):
            for key in ("s_per_step_median", "s_per_step_mean", "cpu_s_per_step_median", "total_wall_s_median"):
                per[variant][f"ratio_{key}"] = per[variant][key] / per["direct"][key]
        out[method] = per
    return out


def report_lockstep(summary: dict) -> str:
    rows = []
    for method, per in summary.items():
        for variant in VARIANTS:
            v = per[variant]

            def cell(key: str, v=v, variant=variant) -> list[str]:
                return [f"{v[key]:.3f}", "" if variant == "direct" else f"({v['ratio_' + key]:.3f})"]

            rows.append(
                [
                    method,
                    variant,
                    v["steps"],
                    *cell("cpu_s_per_step_median"),
                    *cell("s_per_step_p10"),
                    *cell("s_per_step_median"),
                    *cell("s_per_step_mean"),
                    "" if variant == "direct" else f"{v['paired_ratio_median']:.3f}",
                ]
            )
    header = [
        "method", "variant", "steps", "cpu s/step p50", "(ratio)", "s/step p10", "(ratio)", "s/step p50", "(ratio)",
        "s/step mean", "(ratio)", "paired ratio p50",
    ]  # fmt: skip
    return harness.table(rows, header)


def report_sequential(summary: dict) -> str:
    rows = []
    for method, per in summary.items():
        for variant in VARIANTS:
            v = per[variant]
            alone = variant == "direct"
            rows.append(
                [
                    method,
                    variant,
                    f"{v['s_per_step_median']:.3f}",
                    "" if alone else f"{v['ratio_s_per_step_median']:.3f}",
                    f"{v['cpu_s_per_step_median']:.3f}",
                    "" if alone else f"{v['ratio_cpu_s_per_step_median']:.3f}",
                    "" if alone else f"{v['context_ms_per_step']:.3f}",
                    "" if variant != "job" else f"{v['heartbeat_flush_s']:.3f}",
                    f"{v['outside_loop_s_median']:.1f}",
                    f"{v['total_wall_s_median']:.1f}",
                    "" if alone else f"{v['ratio_total_wall_s_median']:.3f}",
                    f"{100 * v['others_cpu_share']:.0f}%",
                ]
            )
    header = [
        "method", "variant", "s/step p50", "ratio", "cpu s/step p50", "ratio", "ctx ms/step", "flush s",
        "outside loop s", "total s", "ratio", "others' CPU",
    ]  # fmt: skip
    return harness.table(rows, header)
