"""Step timing shared by the pretraining benchmarks: the same timestamps for the runner and for a hand-written loop.

A step's duration is the time between the end of the step before it (or the start of the loop) and its own end, so
whatever a loop does between steps counts against it. Each timestamp holds wall-clock time and the process's CPU
time (all threads): on a machine shared with other work, tokens per CPU-second show what the process did with the
time it was given, which the wall clock alone cannot separate from what the neighbours took.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path


class Marks:
    def __init__(self):
        self.start: tuple[float, float] | None = None
        self.steps: list[tuple[float, float]] = []
        self.losses: list[float] = []

    @staticmethod
    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def durations(self) -> list[tuple[float, float]]:
        return [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise([self.start, *self.steps])]

    def summary(self, tokens_per_step: int, warmup: int) -> dict:
        """Steady state: the median over the steps after ``warmup``; end to end: every step, warmup included."""
        d = self.durations()
        steady = d[warmup:] or d
        wall = [tokens_per_step / w for w, _ in steady]
        cpu = [tokens_per_step / c for _, c in steady if c > 0]
        loop_wall = self.steps[-1][0] - self.start[0]
        loop_cpu = self.steps[-1][1] - self.start[1]
        return {
            "steps": len(d),
            "tokens_per_step": tokens_per_step,
            "step_seconds": [round(w, 4) for w, _ in d],
            "tokens_per_s_median": statistics.median(wall),
            "tokens_per_s_best": max(wall),
            "tokens_per_cpu_s_median": statistics.median(cpu) if cpu else None,
            "end_to_end_tokens_per_s": tokens_per_step * len(d) / loop_wall,
            "cpu_utilisation": loop_cpu / loop_wall,
            "losses": [round(x, 4) for x in self.losses],
        }


def time_runner(config, warmup: int, bar=None) -> dict:
    """Run ``training.runners.pretrain.run`` in a throwaway folder; per-step timing plus the runner's own metrics."""
    from training.runners.cli import LocalContext
    from training.runners.pretrain import run

    class TimedContext(LocalContext):
        """Marks the loop's start at the last log line before the first step (the run's header line) and each
        step's end when its metrics arrive, which the loop sends right after the step."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.marks = Marks()
            self.last_log = Marks.now()
            self.step_metrics: list[dict] = []

        def log(self, line: str) -> None:
            super().log(line)
            self.last_log = Marks.now()

        def metrics(self, step, values):
            if "loss" in values:
                now = Marks.now()
                if self.marks.start is None:
                    self.marks.start = self.last_log
                self.marks.steps.append(now)
                self.marks.losses.append(values["loss"])
                self.step_metrics.append(dict(values))
                if bar is not None:
                    bar.update(1)
            super().metrics(step, values)

    with tempfile.TemporaryDirectory(prefix="plumbline-bench-pretrain-") as tmp:
        ctx = TimedContext(Path(tmp) / "run", show_progress=False)
        started = time.perf_counter()
        try:
            result = run(config, ctx)
        finally:
            ctx.close()
        total = time.perf_counter() - started
        log = (Path(tmp) / "run" / "run.log").read_text()
    tokens_per_step = result.summary["tokens"] // result.summary["steps"]
    out = ctx.marks.summary(tokens_per_step, warmup)
    steady = ctx.step_metrics[warmup:] or ctx.step_metrics
    out.update(
        runner_metric_tokens_per_s_median=statistics.median(m["tokens_per_s"] for m in steady),
        runner_metric_mfu_median=statistics.median(m["mfu"] for m in steady),
        run_total_seconds=total,
        outside_loop_seconds=total - (ctx.marks.steps[-1][0] - ctx.marks.start[0]),
        precision=result.summary["precision"],
        parameters=result.summary["parameters"],
        final_loss=result.summary["final_loss"],
        log=log.splitlines()[:5],
    )
    return out
