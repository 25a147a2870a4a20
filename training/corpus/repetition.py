"""Gopher's repetition rules (Rae et al. 2021, appendix A.1.2 and table A1), vectorized with numpy.

Lines and paragraphs: the share of them that repeat an earlier one, and the share of characters in those repeats.
n-grams (of whitespace-separated words, characters counted without whitespace): for n = 2..4 the share of
characters in the most frequent n-gram (ties go to the one seen first); for n = 5..10 the share of characters
covered by repeated occurrences of n-grams, each character counted once even where n-grams overlap. As for lines
and paragraphs, the first occurrence is the original and only the later ones count as duplicates (as datatrove
reads the paper's "characters contained within all duplicate n-grams").

Words become ids through a per-document vocabulary and n-grams become 64-bit polynomial hashes of those ids, so a
document of 150k words costs a few sorts instead of millions of Python tuples. A shard's documents go through the
n-gram rules together (``ngram_rules``): their words end to end, so each statistic is a few numpy calls for all of
them rather than a dozen per document (pydocs averages 4 KB a document: the calls were the cost). Occurrences are
grouped by one plain sort of keys that hold a hash's high bits and the position in the low ones (a stable argsort
is several times slower); a document where two different n-grams share those high bits, which the batch detects,
is computed exactly on its own.
"""

import numpy as np

from .config import GopherRepetitionConfig
from .words import Words

_MULTIPLIERS = np.random.default_rng(20211208).integers(1, 2**63, size=32, dtype=np.uint64) | np.uint64(1)
_TIES = 16  # ties for the most frequent n-gram: the first seen among the 16 smallest hashes


def _repeats(items: list[str]) -> tuple[int, int]:
    """(items equal to an earlier item, characters in those items): all minus the first occurrences."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def word_ids(words: list[str]) -> np.ndarray:
    return Words(words).ids


def ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """One uint64 per n-gram start: sum of ids[i + k] * M_k (wrapping), a hash that depends on word order."""
    return NgramHashes(ids).get(n)


class NgramHashes:
    """``ngram_hashes`` for several n of one document, each n built from the largest smaller one already computed
    (the n-gram hash is the (n-1)-gram hash plus one term), so n = 2..10 cost one multiply-add each."""

    def __init__(self, ids: np.ndarray):
        self.shifted = ids + np.uint64(1)
        self.done: dict[int, np.ndarray] = {}

    def get(self, n: int) -> np.ndarray:
        if n not in self.done:
            k = max((k for k in self.done if k < n), default=0)
            out = self.done.get(k)
            for step in range(k, n):  # from (step)-grams to (step + 1)-grams
                term = self.shifted[step:] * _MULTIPLIERS[step]
                out = term if out is None else out[: len(term)] + term
            self.done[n] = out
        return self.done[n]


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    new = np.empty(len(sorted_values), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _occurrences(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(keys, positions)``: the n-grams sorted by hash, then by position, with one plain sort (several times faster
    than a stable argsort): each hash keeps its high bits and gets the position in the low ones. None in the rare
    case where two different hashes share those high bits, when the caller takes the exact slow path."""
    bits = max(1, (len(hashes) - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    packed = np.sort((hashes & ~low) | np.arange(len(hashes), dtype=np.uint64))
    keys = packed >> np.uint64(bits)
    positions = (packed & low).astype(np.intp)
    same = keys[1:] == keys[:-1]
    if not np.array_equal(hashes[positions[1:][same]], hashes[positions[:-1][same]]):
        return None
    return keys, positions


def top_ngram_fraction(
    ids: np.ndarray, lengths: np.ndarray, n: int, total: int, hashes: np.ndarray | None = None
) -> float:
    if len(ids) < n or total == 0:
        return 0.0
    hashes = ngram_hashes(ids, n) if hashes is None else hashes
    found = _occurrences(hashes)
    if found is None:
        return _top_ngram_fraction_exact(hashes, lengths, n, total)
    keys, positions = found
    starts = _run_starts(keys)  # one run per distinct n-gram, in hash order, each in position order
    if len(starts) == len(keys):
        return 0.0  # no n-gram repeats
    counts = np.diff(starts, append=len(keys))
    best = int(counts.max())
    first = int(positions[starts[counts == best][:_TIES]].min())  # ties: the n-gram seen first
    return best * int(lengths[first : first + n].sum()) / total


def _top_ngram_fraction_exact(hashes: np.ndarray, lengths: np.ndarray, n: int, total: int) -> float:
    values, counts = np.unique(hashes, return_counts=True)
    best = int(counts.max())
    if best < 2:
        return 0.0
    tied = values[counts == best]
    first = min(int(np.argmax(hashes == value)) for value in tied[:_TIES])
    return best * int(lengths[first : first + n].sum()) / total


def duplicate_ngram_fraction(
    ids: np.ndarray, lengths: np.ndarray, n: int, total: int, hashes: np.ndarray | None = None
) -> float:
    if len(ids) < n or total == 0:
        return 0.0
    hashes = ngram_hashes(ids, n) if hashes is None else hashes
    found = _occurrences(hashes)
    if found is None:
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        starts = np.flatnonzero(first[inverse] != np.arange(len(hashes)))
    else:
        keys, positions = found
        starts = positions[1:][keys[1:] == keys[:-1]]  # occurrences after an n-gram's first
    if len(starts) == 0:
        return 0.0
    size = len(ids) + 1
    edges = np.bincount(starts, minlength=size) - np.bincount(starts + n, minlength=size)
    covered = np.cumsum(edges[:-1]) > 0
    return int(lengths[covered].sum()) / total


def line_rules(text: str, cfg: GopherRepetitionConfig) -> str | None:
    """The first line or paragraph rule the document breaks, or None."""
    length = len(text) or 1
    lines = list(filter(str.strip, text.split("\n")))  # the non-blank lines
    if lines:
        count, chars = _repeats(lines)
        if count / len(lines) > cfg.max_duplicate_line_fraction:
            return "duplicate_lines"
        if chars / length > cfg.max_duplicate_line_char_fraction:
            return "duplicate_line_chars"
    paragraphs = list(filter(str.strip, text.split("\n\n")))
    if paragraphs:
        count, chars = _repeats(paragraphs)
        if count / len(paragraphs) > cfg.max_duplicate_paragraph_fraction:
            return "duplicate_paragraphs"
        if chars / length > cfg.max_duplicate_paragraph_char_fraction:
            return "duplicate_paragraph_chars"
    return None


class _Batch:
    """The words of several documents end to end, so each n-gram statistic costs a few numpy calls for all of
    them instead of a dozen per document (most documents are short: the calls, not the data, were the cost)."""

    def __init__(self, docs: list[Words]):
        self.docs = docs
        self.sizes = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        self.offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(self.sizes, out=self.offsets[1:])
        self.ids = np.concatenate([d.ids for d in docs]) if docs else np.zeros(0, dtype=np.uint64)
        self.lengths = np.concatenate([d.lengths for d in docs]) if docs else np.zeros(0, dtype=np.int64)
        self.doc_of = np.repeat(np.arange(len(docs)), self.sizes)
        self.room = self.offsets[1:][self.doc_of] - np.arange(len(self.ids))  # words from here to the doc's end
        self.chars = np.zeros(len(self.ids) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.chars[1:])
        self.totals = self.chars[self.offsets[1:]] - self.chars[self.offsets[:-1]]
        self.hashes = NgramHashes(self.ids)
        self.bits = max(1, (len(self.ids) - 1).bit_length())

    def occurrences(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The n-grams sorted by (hash, position) with one plain sort, hash high bits and position packed in 64 bits:
        ``(positions, docs, run starts, documents whose n-grams share high bits without being equal)``. A run is
        one n-gram's occurrences in one document, in position order; runs are in hash order within a document."""
        hashes = self.hashes.get(n)
        where = np.flatnonzero(self.room[: len(hashes)] >= n)  # n-grams inside one document
        low = np.uint64((1 << self.bits) - 1)
        packed = np.sort((hashes[where] & ~low) | where.astype(np.uint64))
        keys = packed >> np.uint64(self.bits)
        positions = (packed & low).astype(np.intp)
        docs = self.doc_of[positions]
        new = np.empty(len(packed), dtype=bool)
        new[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        new[1:] |= docs[1:] != docs[:-1]
        same = np.flatnonzero(~new[1:])
        clash = same[hashes[positions[same + 1]] != hashes[positions[same]]]
        return positions, docs, np.flatnonzero(new), np.unique(docs[clash])

    def top_fractions(self, n: int) -> np.ndarray:
        """``top_ngram_fraction`` of every document."""
        positions, docs, starts, clashes = self.occurrences(n)
        counts = np.diff(starts, append=len(positions))
        run_docs, run_first = docs[starts], positions[starts]
        best = np.zeros(len(self.docs), dtype=np.int64)
        np.maximum.at(best, run_docs, counts)
        tied = np.flatnonzero((counts == best[run_docs]) & (counts >= 2))  # in hash order within each document
        tied = tied[np.argsort(run_docs[tied], kind="stable")]
        group = _run_starts(run_docs[tied])
        rank = np.arange(len(tied)) - np.repeat(group, np.diff(group, append=len(tied)))
        tied = tied[rank < _TIES]  # ties: the first seen among the smallest hashes, as np.unique orders them
        first = np.full(len(self.docs), len(self.ids), dtype=np.int64)
        np.minimum.at(first, run_docs[tied], run_first[tied])
        out = np.zeros(len(self.docs))
        has = np.flatnonzero((best >= 2) & (self.totals > 0))
        chars = self.chars[first[has] + n] - self.chars[first[has]]
        out[has] = best[has] * chars / self.totals[has]
        for d in clashes.tolist():
            out[d] = self._exact(d, n, top_ngram_fraction)
        return out

    def duplicate_fractions(self, n: int) -> np.ndarray:
        """``duplicate_ngram_fraction`` of every document."""
        positions, _, starts, clashes = self.occurrences(n)
        later = np.ones(len(positions), dtype=bool)
        later[starts] = False
        repeats = positions[later]  # occurrences after an n-gram's first in its document
        size = len(self.ids) + 1
        edges = np.bincount(repeats, minlength=size) - np.bincount(repeats + n, minlength=size)
        covered = np.flatnonzero(np.cumsum(edges[:-1]) > 0)
        chars = np.bincount(self.doc_of[covered], weights=self.lengths[covered], minlength=len(self.docs))
        out = np.zeros(len(self.docs))
        has = np.flatnonzero(self.totals > 0)
        out[has] = chars[has].astype(np.int64) / self.totals[has]
        for d in clashes.tolist():
            out[d] = self._exact(d, n, duplicate_ngram_fraction)
        return out

    def _exact(self, d: int, n: int, fraction) -> float:
        doc = self.docs[d]
        return fraction(doc.ids, doc.lengths, n, int(self.totals[d]))


def ngram_rules(docs: list[Words], cfg: GopherRepetitionConfig) -> list[str | None]:
    """The first n-gram rule each document breaks, or None; a shard's documents at once."""
    rules: list[str | None] = [None] * len(docs)
    if not docs or not (cfg.max_top_ngram_char_fraction or cfg.max_duplicate_ngram_char_fraction):
        return rules
    batch = _Batch(docs)
    pending = np.ones(len(docs), dtype=bool)
    for key, limit in sorted(cfg.max_top_ngram_char_fraction.items(), key=lambda kv: int(kv[0])):
        broken = pending & (batch.top_fractions(int(key)) > limit)
        for d in np.flatnonzero(broken).tolist():
            rules[d] = f"top_{key}gram"
        pending &= ~broken
    dup_limits = sorted(((int(k), v) for k, v in cfg.max_duplicate_ngram_char_fraction.items()))
    if dup_limits and pending.any():
        n, limit = dup_limits[0]
        fractions = batch.duplicate_fractions(n)
        for d in np.flatnonzero(pending & (fractions > limit)).tolist():
            rules[d] = f"duplicate_{n}grams"
        # coverage only shrinks as n grows, so a document at or under the smallest limit passes every larger n
        lowest = min(v for _, v in dup_limits)
        rest = np.flatnonzero(pending & (fractions <= limit) & (fractions > lowest))
        if len(rest) and len(dup_limits) > 1:
            batch = _Batch([docs[d] for d in rest.tolist()])
            open_ = np.ones(len(rest), dtype=bool)
            for n, limit in dup_limits[1:]:
                broken = open_ & (batch.duplicate_fractions(n) > limit)
                for i in np.flatnonzero(broken).tolist():
                    rules[int(rest[i])] = f"duplicate_{n}grams"
                open_ &= ~broken
    return rules


def gopher_repetition(
    text: str, words: list[str], cfg: GopherRepetitionConfig, stats: Words | None = None
) -> str | None:
    """The name of the first repetition rule the document breaks, or None. ``stats``: the same words' ``Words``,
    when the caller has them."""
    rule = line_rules(text, cfg)
    if rule is not None or not words:
        return rule
    return ngram_rules([Words(words) if stats is None else stats], cfg)[0]
