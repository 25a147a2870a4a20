"""Corpora with planted near-duplicates at known Jaccard similarity, to measure near-dup recall and precision.

Each pair is an original of random words and a copy with words substituted at random positions; the number of
substitutions is searched so that the exact Jaccard similarity of the two 5-word shingle sets lands on the target.
The true similarity of every pair is computed, not assumed, so a benchmark can score against it.
"""

import random
import string
from dataclasses import dataclass

from .minhash import jaccard, shingles


@dataclass(frozen=True)
class PlantedPair:
    original: str
    copy: str
    target: float
    jaccard: float


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))


def _edit(words: list[str], positions: list[int], replacements: list[str], edits: int) -> list[str]:
    out = list(words)
    for position, word in zip(positions[:edits], replacements[:edits], strict=True):
        out[position] = word
    return out


def planted_pair(target: float, *, words: int = 500, shingle_size: int = 5, seed: int = 0) -> PlantedPair:
    """A pair whose shingle-set Jaccard similarity is as close to ``target`` as whole-word edits allow."""
    rng = random.Random(seed)
    original = [_word(rng) for _ in range(words)]
    positions = rng.sample(range(words), words)  # edits accumulate in one fixed order: similarity only falls
    replacements = [_word(rng) for _ in range(words)]
    base = shingles(" ".join(original), shingle_size)
    best: tuple[float, list[str]] | None = None
    low, high = 0, words
    while low <= high:  # similarity falls as edits grow: binary search the edit count
        edits = (low + high) // 2
        copy = _edit(original, positions, replacements, edits)
        similarity = jaccard(base, shingles(" ".join(copy), shingle_size))
        if best is None or abs(similarity - target) < abs(best[0] - target):
            best = (similarity, copy)
        if similarity > target:
            low = edits + 1
        else:
            high = edits - 1
    similarity, copy = best
    return PlantedPair(" ".join(original), " ".join(copy), target, similarity)


def planted_corpus(
    targets: list[float], pairs_per_target: int, *, words: int = 500, seed: int = 0
) -> list[PlantedPair]:
    return [
        planted_pair(target, words=words, seed=seed + 1000 * i + j)
        for i, target in enumerate(targets)
        for j in range(pairs_per_target)
    ]
