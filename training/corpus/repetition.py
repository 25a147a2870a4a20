"""Gopher's repetition rules (Rae et al. 2021, appendix A.1.2 and table A1), vectorized with numpy.

Lines and paragraphs: the share of them that repeat an earlier one, and the share of characters in those repeats.
n-grams (of whitespace-separated words, characters counted without whitespace): for n = 2..4 the share of
characters in the most frequent n-gram (ties go to the one seen first); for n = 5..10 the share of characters
covered by repeated occurrences of n-grams, each character counted once even where n-grams overlap. As for lines
and paragraphs, the first occurrence is the original and only the later ones count as duplicates (as datatrove
reads the paper's "characters contained within all duplicate n-grams").

Words become ids through a per-document vocabulary and n-grams become 64-bit polynomial hashes of those ids, so a
document of 150k words costs a few sorts instead of millions of Python tuples.
"""

import numpy as np

from .config import GopherRepetitionConfig

_MULTIPLIERS = np.random.default_rng(20211208).integers(1, 2**63, size=32, dtype=np.uint64) | np.uint64(1)


def _repeats(items: list[str]) -> tuple[int, int]:
    """(items equal to an earlier item, characters in those items): all minus the first occurrences."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def word_ids(words: list[str]) -> np.ndarray:
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    return np.fromiter(map(vocab.__getitem__, words), dtype=np.uint64, count=len(words))


def ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """One uint64 per n-gram start: sum of ids[i + k] * M_k (wrapping), a hash that depends on word order."""
    m = len(ids) - n + 1
    out = (ids[:m] + np.uint64(1)) * _MULTIPLIERS[0]
    for k in range(1, n):
        out += (ids[k : k + m] + np.uint64(1)) * _MULTIPLIERS[k]
    return out


def top_ngram_fraction(ids: np.ndarray, lengths: np.ndarray, n: int, total: int) -> float:
    if len(ids) < n or total == 0:
        return 0.0
    hashes = ngram_hashes(ids, n)
    values, counts = np.unique(hashes, return_counts=True)  # a plain sort; positions only for the winner
    best = int(counts.max())
    if best < 2:
        return 0.0
    tied = values[counts == best]
    first = min(int(np.argmax(hashes == value)) for value in tied[:16])  # ties: the n-gram seen first
    return best * int(lengths[first : first + n].sum()) / total


def duplicate_ngram_fraction(ids: np.ndarray, lengths: np.ndarray, n: int, total: int) -> float:
    if len(ids) < n or total == 0:
        return 0.0
    hashes = ngram_hashes(ids, n)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    starts = np.flatnonzero(first[inverse] != np.arange(len(hashes)))  # occurrences after an n-gram's first
    if len(starts) == 0:
        return 0.0
    size = len(ids) + 1
    edges = np.bincount(starts, minlength=size) - np.bincount(starts + n, minlength=size)
    covered = np.cumsum(edges[:-1]) > 0
    return int(lengths[covered].sum()) / total


def gopher_repetition(
    text: str, words: list[str], cfg: GopherRepetitionConfig, ids: np.ndarray | None = None
) -> str | None:
    """The name of the first repetition rule the document breaks, or None."""
    length = len(text) or 1
    lines = [line for line in text.split("\n") if line.strip()]
    if lines:
        count, chars = _repeats(lines)
        if count / len(lines) > cfg.max_duplicate_line_fraction:
            return "duplicate_lines"
        if chars / length > cfg.max_duplicate_line_char_fraction:
            return "duplicate_line_chars"
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if paragraphs:
        count, chars = _repeats(paragraphs)
        if count / len(paragraphs) > cfg.max_duplicate_paragraph_fraction:
            return "duplicate_paragraphs"
        if chars / length > cfg.max_duplicate_paragraph_char_fraction:
            return "duplicate_paragraph_chars"
    if not words or not (cfg.max_top_ngram_char_fraction or cfg.max_duplicate_ngram_char_fraction):
        return None
    ids = word_ids(words) if ids is None else ids
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    total = int(lengths.sum())
    for key, limit in sorted(cfg.max_top_ngram_char_fraction.items(), key=lambda kv: int(kv[0])):
        if top_ngram_fraction(ids, lengths, int(key), total) > limit:
            return f"top_{key}gram"
    dup_limits = sorted(((int(k), v) for k, v in cfg.max_duplicate_ngram_char_fraction.items()))
    for index, (n, limit) in enumerate(dup_limits):
        fraction = duplicate_ngram_fraction(ids, lengths, n, total)
        if fraction > limit:
            return f"duplicate_{n}grams"
        if index == 0 and fraction <= min(v for _, v in dup_limits):
            break  # coverage only shrinks as n grows, so every larger n passes too
    return None
