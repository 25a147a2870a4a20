import numpy as np

from training.corpus.config import SplitConfig
from training.corpus.difficulty import difficulty
from training.corpus.repetition import word_ids
from training.corpus.splits import assign_split


def test_split_is_a_stable_function_of_the_id():
    cfg = SplitConfig(train=0.8, validation=0.1, test=0.1)
    ids = [f"doc-{i}" for i in range(20_000)]
    first = [assign_split(i, cfg) for i in ids]
    assert first == [assign_split(i, cfg) for i in ids]
    shares = {name: first.count(name) / len(ids) for name in ("train", "validation", "test")}
    assert abs(shares["train"] - 0.8) < 0.015 and abs(shares["validation"] - 0.1) < 0.01
    other_seed = [assign_split(i, SplitConfig(train=0.8, validation=0.1, test=0.1, seed="other")) for i in ids]
    assert other_seed != first
    assert {assign_split(i, SplitConfig(train=1.0, validation=0.0, test=0.0)) for i in ids[:100]} == {"train"}


def _difficulty(text: str) -> float:
    words = text.split()
    return difficulty(words, word_ids(words))


def test_difficulty_orders_simple_before_complex():
    simple = "the cat sat on the mat and the cat sat on the mat " * 3
    complex_text = (
        "Thermodynamic equilibrium presupposes macroscopic stationarity notwithstanding microscopic fluctuations; "
        "statistical mechanics reconciles irreversibility with time-symmetric Hamiltonian dynamics through "
        "coarse-graining, ergodicity assumptions and typicality arguments concerning phase-space volumes. "
    ) * 5
    assert 0.0 <= _difficulty(simple) < _difficulty(complex_text) <= 1.0
    assert _difficulty("") == 0.0
    assert _difficulty(complex_text) == _difficulty(complex_text)
    assert isinstance(_difficulty(simple), float) and not np.isnan(_difficulty(simple))
