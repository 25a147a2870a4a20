"""Bootstrap intervals for a benchmark's mean score (what the leaderboard draws as error bars)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bootstrap_mean(values: Sequence[float], *, seed: int = 0, rounds: int = 1000) -> tuple[float, float, float]:
    """(mean, low, high) with a percentile bootstrap 95% interval; a single value has a zero-width interval."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise ValueError("no values")
    mean = float(arr.mean())
    if arr.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, (rounds, arr.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return mean, float(low), float(high)


def by_category(values: Sequence[float], categories: Sequence[str]) -> dict[str, dict[str, float]]:
    """Mean and count per category (MMLU subject, MATH type), for the metric's metadata."""
    groups: dict[str, list[float]] = {}
    for value, category in zip(values, categories, strict=True):
        groups.setdefault(category or "(none)", []).append(float(value))
    return {name: {"mean": float(np.mean(v)), "n": len(v)} for name, v in sorted(groups.items())}
