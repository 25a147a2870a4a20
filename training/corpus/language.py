"""Language identification with py3langid's model (langid.py's naive Bayes over byte n-grams, shipped inside the
wheel: no download, works offline), scored for a whole shard at once with numpy.

py3langid counts features by walking a DFA over each text one byte at a time in Python. That DFA is an
Aho-Corasick automaton over the feature n-grams (at most 6 bytes), so its state after each byte is the longest
suffix of the text so far that is a node of the feature trie. This module recovers every node's bytes once (a
breadth-first walk of the DFA, cached on disk), finds those longest suffixes for all positions of all texts at once
through a hash table, and applies the same naive Bayes scoring (one sparse product for the shard), calibration and
alias folding: the same language and probability as ``py3langid.classify`` (a test compares the two), several
times faster.
"""

import math
import os
import shutil
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import LanguageConfig

_MAX_GRAM = 6
_EMPTY = np.uint64(2**64 - 1)
_NOT_A_NODE = -2
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_SEPARATOR = b"\xff"


def _walk_dfa(nextmove: np.ndarray, rows: np.ndarray, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, features)`` of every trie node: key = its bytes as an integer with its length in bits 48+."""
    codes = np.zeros(len(rows), dtype=np.uint64)
    lengths = np.zeros(len(rows), dtype=np.uint64)
    seen = np.zeros(len(rows), dtype=bool)
    seen[0] = True
    frontier = np.array([0])
    for depth in range(1, _MAX_GRAM + 1):
        targets = nextmove[rows[frontier][:, None] + np.arange(256)].ravel()
        fresh = np.flatnonzero(~seen[targets])
        states, first = np.unique(targets[fresh], return_index=True)
        if len(states) == 0:
            break
        where = fresh[first]
        seen[states] = True
        codes[states] = (codes[frontier[where // 256]] << np.uint64(8)) | (where % 256).astype(np.uint64)
        lengths[states] = depth
        frontier = states
    nodes = np.flatnonzero(seen)[1:]  # every state but the root
    return codes[nodes] | (lengths[nodes] << np.uint64(48)), output[nodes]


def _cache_dir(version: str) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "plumbline" / f"py3langid-{version}"


_ARRAYS = ("keys", "features", "nb_ptc", "nb_pc", "classes")


def _model() -> dict[str, np.ndarray]:
    """The trie and the naive Bayes tables, from an uncompressed on-disk cache (memory-mapped; the wheel's xz
    model takes a second to decompress in every worker) or built and cached on first use."""
    import py3langid

    cache = _cache_dir(getattr(py3langid, "__version__", "0"))
    try:
        return {name: np.load(cache / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    except (OSError, ValueError):
        pass
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    keys, features = _walk_dfa(
        np.asarray(ident.tk_nextmove, dtype=np.int64),
        np.asarray(ident.tk_row, dtype=np.int64) << 8,
        np.asarray(ident.tk_output, dtype=np.int64),
    )
    model = {
        "keys": keys,
        "features": features,
        "nb_ptc": np.ascontiguousarray(ident.nb_ptc, dtype=np.float32),
        "nb_pc": np.asarray(ident.nb_pc, dtype=np.float32),
        "classes": np.asarray(ident.nb_classes, dtype=str),
    }
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name, array in model.items():
            np.save(tmp / f"{name}.npy", array)
        os.replace(tmp, cache)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # read-only, or another worker won the race: use what is in memory
    return model


class FastLangid:
    def __init__(self):
        model = _model()
        keys, features = model["keys"], model["features"]
        # a table 8x the keys, indexed by the top bits of a multiplicative hash: 95% of lookups end at the first
        # slot (a denser table, or the low bits, make probe chains that cost more rounds than the memory saves)
        bits = math.ceil(math.log2(len(keys) * 8))
        self.shift = np.uint64(64 - bits)
        self.mask = np.uint64((1 << bits) - 1)
        self.table_keys = np.full(1 << bits, _EMPTY, dtype=np.uint64)
        self.table_values = np.full(1 << bits, _NOT_A_NODE, dtype=np.int32)
        slots = self._slots(keys)
        pending = np.arange(len(keys))
        while len(pending):  # linear probing, vectorized: place what fits, move the rest one slot on
            order = np.unique(slots[pending], return_index=True)[1]
            placed = pending[order]
            free = self.table_keys[slots[placed]] == _EMPTY
            placed = placed[free]
            self.table_keys[slots[placed]] = keys[placed]
            self.table_values[slots[placed]] = features[placed]
            pending = np.setdiff1d(pending, placed, assume_unique=True)
            slots[pending] = (slots[pending] + np.uint64(1)) & self.mask
        key_bytes = (keys[:, None] >> np.arange(0, 48, 8, dtype=np.uint64)) & np.uint64(0xFF)
        in_key = np.arange(6) < (keys >> np.uint64(48))[:, None].astype(np.int64)
        if (key_bytes[in_key] == _SEPARATOR[0]).any():
            raise RuntimeError("the language model has a feature with byte 0xFF: texts cannot be separated by it")
        self.unigram = self._lookup(np.arange(256, dtype=np.uint64) | np.uint64(1 << 48))
        self.bigram = self._lookup(np.arange(65536, dtype=np.uint64) | np.uint64(2 << 48))  # direct tables: no probing
        self.nb_ptc = model["nb_ptc"]
        self.nb_pc = model["nb_pc"]
        self.classes = [str(c) for c in model["classes"]]
        first_of: dict[str, int] = {}
        self.alias_pairs = []
        for i, label in enumerate(self.classes):
            if label in first_of:
                self.alias_pairs.append((first_of[label], i))
            else:
                first_of[label] = i

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return (keys * _HASH_MULTIPLIER) >> self.shift

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """The node's feature (>= 0), -1 for a node without one, -2 for no node."""
        out = np.full(len(keys), _NOT_A_NODE, dtype=np.int64)
        slots = self._slots(keys)
        found = self.table_keys[slots]
        hit = found == keys
        out[hit] = self.table_values[slots[hit]]
        active = np.flatnonzero(~hit & (found != _EMPTY))  # the few that probe on
        slots = (slots[active] + np.uint64(1)) & self.mask
        while len(active):
            found = self.table_keys[slots]
            hit = found == keys[active]
            out[active[hit]] = self.table_values[slots[hit]]
            more = ~hit & (found != _EMPTY)
            active = active[more]
            slots = (slots[more] + np.uint64(1)) & self.mask
        return out

    def classify_many(self, texts: list[str]) -> list[tuple[str, float]]:
        """``(language, probability)`` per text, as ``py3langid.classify`` would give."""
        if not texts:
            return []
        encoded = []
        for text in texts:
            if text.isupper():
                text = text.lower()
            encoded.append(unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass"))
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        # The texts one after another, each followed by a byte that is in no trie node (0xFF is never in UTF-8):
        # no gram runs from one text into the next, and the state after it is the root, as at a text's start.
        raw = np.frombuffer(_SEPARATOR.join(encoded) + _SEPARATOR, dtype=np.uint8)
        data = raw.astype(np.uint64)
        feature = np.full(len(data), -1, dtype=np.int64)
        # Shortest gram first: a gram of length L can be a trie node only if its first L-1 bytes are one, so each
        # longer length looks up only the positions whose shorter gram matched.
        node = self.unigram[raw]
        alive = np.flatnonzero(node != _NOT_A_NODE)  # where the gram of the current length ending there is a node
        feature[alive] = node[alive]
        grams = data[alive]  # those grams
        for length in range(2, _MAX_GRAM + 1):
            alive += 1  # extend by the next byte (never past the end: the last byte is a separator)
            grams = (grams << np.uint64(8)) | data[alive]
            if length == 2:
                values = self.bigram[grams.astype(np.int64)]
            else:
                values = self._lookup(grams | np.uint64(length << 48))
            hit = values != _NOT_A_NODE
            alive, grams = alive[hit], grams[hit]
            if len(alive) == 0:
                break
            feature[alive] = values[hit]  # the longer node is the state, even one without a feature
        counted = np.flatnonzero(feature >= 0)
        doc = np.searchsorted(np.cumsum(lengths + 1) - 1, counted)  # text i's separator is at ends[i]
        return self._scores(doc, feature[counted], lengths)

    def _scores(self, doc: np.ndarray, feature: np.ndarray, lengths: np.ndarray) -> list[tuple[str, float]]:
        from scipy.sparse import csr_matrix

        n_docs, n_features = len(lengths), len(self.nb_ptc)
        pair, counts = np.unique(doc * n_features + feature, return_counts=True)  # sorted by document, feature
        rows = pair // n_features
        per_doc = np.bincount(rows, minlength=n_docs)
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(per_doc, out=indptr[1:])
        counts_matrix = csr_matrix(  # built as CSR directly: the (row, col) form costs a conversion
            (np.log1p(counts.astype(np.float32)), pair - rows * n_features, indptr), shape=(n_docs, n_features)
        )
        has_features = per_doc > 0
        scores = np.asarray(counts_matrix @ self.nb_ptc, dtype=np.float32) + self.nb_pc
        scores[~has_features] = 0.0  # no features: uniform, like py3langid under norm_probs
        scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        for i, j in self.alias_pairs:
            scores[:, i] += scores[:, j]
            scores[:, j] = 0.0
        best = scores.argmax(axis=1)
        return [(self.classes[b], float(scores[k, b])) for k, b in enumerate(best)]


@lru_cache(maxsize=1)
def _identifier() -> FastLangid:
    return FastLangid()


def identify_many(texts: list[str], sample_chars: int = 1000) -> list[tuple[str, float]]:
    return _identifier().classify_many([t[:sample_chars] for t in texts])


def identify(text: str, sample_chars: int = 1000) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of the most likely language."""
    return identify_many([text], sample_chars)[0]


def language_keep(language: str, probability: float, cfg: LanguageConfig) -> bool:
    return language in cfg.languages and probability >= cfg.min_confidence
