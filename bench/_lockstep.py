"""Lockstep timing for bench/alignment_overhead.py: variants take their optimizer steps strictly in turn."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


class Turnstile:
    """The three variants train in threads and take their optimizer steps in strict rotation, one at a time.

    Each variant calls ``step_end`` from ``on_step_end``; the time from receiving the turn to handing it on is one
    exclusive step (the previous step's logging and checkpointing included), so every variant's steps meet the same
    moments of the shared machine's load, a step apart, instead of minutes apart in separate runs. Set-up (up to
    the first step) and saving (after the last) hold the turn as well, so nothing overlaps.
    """

    def __init__(self, names: list[str]):
        self.order = list(names)
        self.turn = 0
        self.done: set[str] = set()
        self.began: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
        self.samples: dict[str, list[tuple[int, float, float]]] = {n: [] for n in names}
        self.cond = threading.Condition()

    def _advance(self) -> None:
        for _ in self.order:
            self.turn = (self.turn + 1) % len(self.order)
            if self.order[self.turn] not in self.done:
                break
        self.cond.notify_all()

    def enter(self, name: str) -> None:
        """Wait for the first turn: set-up (model loading is not thread-safe in transformers) runs alone too."""
        with self.cond:
            self.cond.wait_for(lambda: self.order[self.turn] == name)

    def step_end(self, name: str, step: int) -> None:
        now = clock()
        with self.cond:
            if self.order[self.turn] == name:
                began = self.began[name]
                if began is not None:
                    self.samples[name].append((step, now[0] - began[0], now[1] - began[1]))
                self._advance()
            self.cond.wait_for(lambda: self.order[self.turn] == name)
            self.began[name] = clock()

    def finish(self, name: str) -> None:
        with self.cond:
            self.done.add(name)
            if self.order[self.turn] == name and len(self.done) < len(self.order):
                self._advance()
            self.cond.notify_all()


def timed(base: type, name: str, turnstile: Turnstile | None) -> type:
    """The context class with a step clock, and a meter of the time spent inside the context's own methods.

    ``progress`` is called once per step, by the runner's callback in ``on_step_end``. The time inside every
    RunContext call (and, for the job context, inside the heartbeat thread's database flushes) is what plumbline
    adds to each step, measured directly so that the shared machine's noise cannot hide it.
    """

    class Timed(base):
        stamps: list = []  # the class is made per run, so these are the run's
        inside = {"context_s": 0.0, "flush_s": 0.0}

        def progress(self, step, total=None, message=""):
            Timed.stamps.append(clock())
            with _meter("context_s"):
                super().progress(step, total, message)
            if turnstile is not None:
                turnstile.step_end(name, step)

        def metrics(self, step, values):
            with _meter("context_s"):
                super().metrics(step, values)

        def log(self, line):
            with _meter("context_s"):
                super().log(line)

        def check_cancelled(self):
            with _meter("context_s"):
                super().check_cancelled()

        def flush(self):
            with _meter("flush_s"):
                super().flush()

    @contextlib.contextmanager
    def _meter(key: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            Timed.inside[key] += time.perf_counter() - t

    return Timed


def steady(stamps: list[tuple[float, float]], warmup: int) -> dict:
    wall = [b[0] - a[0] for a, b in itertools.pairwise(stamps)][warmup:]
    cpu = [b[1] - a[1] for a, b in itertools.pairwise(stamps)][warmup:]
    return {"wall": wall, "cpu": cpu}
