"""Bradley-Terry ratings from pairwise votes, with bootstrap 95% intervals (FastChat's arena method).

A battle is (model_a, model_b, score_a) with score_a 1 (a won), 0 (b won) or 0.5 (tie). The maximum-likelihood
strengths come from Hunter's MM iterations, ties counting half a win each way; ratings are shown on the Elo scale
(400·log10 strength + 1000, mean-centred at 1000). Intervals: refit on battles resampled with replacement.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCALE, BASE = 400.0, 1000.0


@dataclass
class Rating:
    model: str
    rating: float
    ci_low: float
    ci_high: float
    battles: int
    wins: float


def fit_strengths(
    battles: Sequence[tuple[str, str, float]],
    models: list[str],
    *,
    prior: float = 0.01,
    iterations: int = 500,
    tol: float = 1e-10,
) -> np.ndarray:
    """Log-strengths (natural log, mean 0). ``prior`` adds that many half-wins both ways to each played pair, so
    an unbeaten model gets a finite rating."""
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    wins = np.zeros((n, n))
    for a, b, score in battles:
        i, j = index[a], index[b]
        wins[i, j] += score
        wins[j, i] += 1.0 - score
    games = wins + wins.T
    played = games > 0
    wins = wins + prior * played
    games = wins + wins.T
    total_wins = wins.sum(axis=1)
    p = np.ones(n)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :] + 1e-300)).sum(axis=1)
        new = np.where(denom > 0, total_wins / np.maximum(denom, 1e-300), p)
        new = new / np.exp(np.mean(np.log(np.maximum(new, 1e-300))))
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    logp = np.log(np.maximum(p, 1e-300))
    return logp - logp.mean()


def to_elo(logp: np.ndarray) -> np.ndarray:
    return SCALE * logp / np.log(10) + BASE


def ratings(battles: Sequence[tuple[str, str, float]], *, rounds: int = 200, seed: int = 0) -> list[Rating]:
    if not battles:
        return []
    models = sorted({m for a, b, _ in battles for m in (a, b)})
    point = to_elo(fit_strengths(battles, models))
    rng = np.random.default_rng(seed)
    arr = list(battles)
    boots = np.empty((rounds, len(models)))
    for r in range(rounds):
        sample = [arr[i] for i in rng.integers(0, len(arr), len(arr))]
        present = sorted({m for a, b, _ in sample for m in (a, b)})
        fitted = dict(zip(present, to_elo(fit_strengths(sample, present)), strict=True))
        boots[r] = [fitted.get(m, np.nan) for m in models]
    low = np.nanpercentile(boots, 2.5, axis=0)
    high = np.nanpercentile(boots, 97.5, axis=0)
    counts = {m: 0 for m in models}
    won = {m: 0.0 for m in models}
    for a, b, score in battles:
        counts[a] += 1
        counts[b] += 1
        won[a] += score
        won[b] += 1 - score
    out = [Rating(m, float(point[i]), float(low[i]), float(high[i]), counts[m], won[m]) for i, m in enumerate(models)]
    return sorted(out, key=lambda r: -r.rating)
