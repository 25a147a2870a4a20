"""MinHash signatures of word shingles, computed with numpy but identical to datasketch's.

Shingles are runs of ``k`` words of the lower-cased text with punctuation removed (datatrove's recipe), hashed to
32 bits. The signature is datasketch's ``affine32`` scheme, value for value (a test checks it against
``datasketch.MinHash.update_batch``): each hash is pre-mixed with the MurmurHash3 finalizer, then every
permutation ``a * h + b (mod 2^32)`` is applied and the minimum kept. datasketch does that in one
``(shingles x permutations)`` array after hashing each shingle in Python; here the word hashes come from a
per-process cache, shingles are combined with numpy, and the permutations run in ``(permutations x shingles)``
blocks whose minimum numpy vectorizes.
"""

import hashlib
import re
from functools import lru_cache

import numpy as np

_TOKEN = re.compile(r"\w+")
# For ASCII texts, the same tokens 3x faster: bytes that are not word characters become spaces and capitals
# lower-case in one ``bytes.translate``, then ``split``.
_ASCII_TOKEN_TABLE = bytes(
    ord(chr(b).lower()) if b < 128 and (chr(b).isalnum() or b == ord("_")) else ord(" ") for b in range(256)
)
_MIX = np.random.default_rng(5).integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)
_BLOCK = 8192
_WORD_CACHE: dict[str, int] = {}
_WORD_CACHE_LIMIT = 2_000_000


def _word_hashes(words: list[str], distinct: set[str] | None = None) -> np.ndarray:
    """64-bit hashes of the words, from a per-process cache (most words repeat across documents); ``distinct``:
    the set of the words, when the caller has it."""
    cache = _WORD_CACHE
    distinct = set(words) if distinct is None else distinct
    missing = distinct.difference(cache)  # a set minus a dict: one C loop over the set, with its stored hashes
    if missing:
        if len(cache) + len(missing) > _WORD_CACHE_LIMIT:
            cache.clear()
            missing = distinct
        for word in missing:
            cache[word] = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
    return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens with punctuation dropped: what shingles (and the lexicon detector) are made of."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TOKEN_TABLE).decode("ascii").split()
    return _TOKEN.findall(text.lower())


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingles(text: str, size: int, words: list[str] | None = None, distinct: set[str] | None = None) -> np.ndarray:
    """Sorted unique 32-bit hashes of the document's ``size``-word shingles (one shingle if it is shorter);
    ``words``: ``tokens(text)`` and ``distinct``: their set, when the caller has them."""
    words = tokens(text) if words is None else words
    if not words:
        return np.empty(0, dtype=np.uint32)
    hashes = _word_hashes(words, distinct)
    n = min(size, len(hashes))
    m = len(hashes) - n + 1
    combined = hashes[:m] * _MIX[0]
    for k in range(1, n):
        combined += hashes[k : k + m] * _MIX[k % len(_MIX)]
    combined = _fmix64(combined + np.uint64(n))
    return sorted_unique((combined >> np.uint64(32)).astype(np.uint32))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a plain sort: numpy 2's default hash-table ``unique`` is several times slower on the
    few thousand values of a document (and far slower on large arrays)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)``, drawn the way ``MinHash._init_permutations``
    draws them (a test checks the equality), so workers need not import datasketch (a second and a half)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signature(shingle_hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """The MinHash signature (uint32, length ``num_perm``); all ``2^32 - 1`` for an empty set, like datasketch."""
    a, b = permutations(num_perm, seed)
    out = np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(shingle_hashes) == 0:
        return out
    mixed = _fmix32(shingle_hashes.astype(np.uint32))
    # (permutations x shingles): the minimum then runs along contiguous memory, where numpy vectorizes it (3x faster
    # than datasketch's (shingles x permutations) layout)
    buffer = np.empty((num_perm, min(_BLOCK, len(mixed))), dtype=np.uint32)
    for start in range(0, len(mixed), _BLOCK):
        chunk = mixed[None, start : start + _BLOCK]
        block = buffer[:, : chunk.shape[1]]
        np.multiply(a[:, None], chunk, out=block)
        np.add(block, b[:, None], out=block)
        np.minimum(out, block.min(axis=1), out=out)
    return out


def signatures(shingle_sets: list[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """``signature`` of each set, ``(len(shingle_sets), num_perm)``: the sets of several documents share each
    block of products (a document's minimum is a ``np.minimum.reduceat`` over its columns), which saves the numpy
    calls of the many small documents."""
    a, b = permutations(num_perm, seed)
    out = np.full((len(shingle_sets), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    sizes = [len(s) for s in shingle_sets]
    i = 0
    while i < len(shingle_sets):
        j, total = i, 0
        while j < len(shingle_sets) and (total + sizes[j] <= _BLOCK or j == i):
            total += sizes[j]
            j += 1
        docs = [k for k in range(i, j) if sizes[k]]
        if len(docs) == 1 and total > _BLOCK:
            out[docs[0]] = signature(shingle_sets[docs[0]], num_perm, seed)
        elif docs:
            mixed = _fmix32(np.concatenate([shingle_sets[k] for k in docs]).astype(np.uint32))
            starts = np.zeros(len(docs), dtype=np.int64)
            np.cumsum([sizes[k] for k in docs[:-1]], out=starts[1:])
            block = np.multiply(a[:, None], mixed[None, :])
            np.add(block, b[:, None], out=block)
            out[docs] = np.minimum.reduceat(block, starts, axis=1).T
        i = j
    return out


def jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if len(x) == 0 and len(y) == 0:
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)
