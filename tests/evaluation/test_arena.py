"""Bradley-Terry fit on known outcome matrices, intervals, and battles from human votes."""

import math

import numpy as np
import pytest

from evaluation.arena import fit_strengths, ratings, to_elo


def battles_from(p_win: dict[tuple[str, str], float], games: int) -> list[tuple[str, str, float]]:
    out = []
    for (a, b), p in p_win.items():
        wins = round(p * games)
        out += [(a, b, 1.0)] * wins + [(a, b, 0.0)] * (games - wins)
    return out


def test_bt_recovers_known_strengths():
    # True strengths 4 : 2 : 1 → P(a beats b) = s_a / (s_a + s_b).
    s = {"a": 4.0, "b": 2.0, "c": 1.0}
    p = {(x, y): s[x] / (s[x] + s[y]) for x, y in [("a", "b"), ("a", "c"), ("b", "c")]}
    logp = fit_strengths(battles_from(p, 3000), ["a", "b", "c"], prior=0.0)
    assert logp[0] - logp[1] == pytest.approx(math.log(2), abs=0.03)
    assert logp[1] - logp[2] == pytest.approx(math.log(2), abs=0.03)
    elo = to_elo(logp)
    assert elo[0] - elo[1] == pytest.approx(400 * math.log10(2), abs=6)


def test_ties_count_half_and_intervals_cover_the_point():
    battles = [("x", "y", 0.5)] * 50 + [("x", "y", 1.0)] * 30 + [("x", "y", 0.0)] * 20
    board = {r.model: r for r in ratings(battles, rounds=100)}
    # x scores 55 of 100: strength ratio 55/45.
    assert board["x"].rating - board["y"].rating == pytest.approx(400 * math.log10(55 / 45), abs=2)
    for r in board.values():
        assert r.ci_low <= r.rating <= r.ci_high and r.battles == 100
    assert board["x"].wins == pytest.approx(55)


def test_unbeaten_model_gets_a_finite_rating():
    board = ratings([("a", "b", 1.0)] * 10, rounds=20)
    assert all(np.isfinite(r.rating) for r in board) and board[0].model == "a"
