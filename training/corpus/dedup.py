"""The two corpus-wide steps, run in the main process in document order: exact dedup and MinHash-LSH near-dup.

Near-dup keeps the first document of each cluster: a document is dropped when its Jaccard similarity to a document
already kept reaches the threshold (so a chain A ~ B ~ C where C is far from A keeps A and C). LSH (datasketch's
``MinHashLSH`` with explicit bands x rows) proposes candidates; each is then verified, by default against the exact
Jaccard of the two shingle sets, which makes the step's precision exact and its recall the LSH collision
probability ``1 - (1 - s^rows)^bands`` (0.988 at s = 0.85 for 14 x 8). The shingle sets of kept documents are
appended to one file and read back with ``pread`` only for candidates, so memory holds just the LSH tables.
"""

import os
from pathlib import Path

import numpy as np

from .config import NearDupConfig
from .minhash import jaccard


class ExactIndex:
    def __init__(self):
        self.seen: set[bytes] = set()

    def add(self, digest: bytes) -> bool:
        """True if new (kept), False if an exact duplicate."""
        if digest in self.seen:
            return False
        self.seen.add(digest)
        return True


class NearDupIndex:
    def __init__(self, cfg: NearDupConfig, store: Path, committed_bytes: int = 0):
        from datasketch import MinHashLSH

        self.cfg = cfg
        self.lsh = MinHashLSH(num_perm=cfg.num_perm, params=(cfg.bands, cfg.rows))
        self.signatures: dict[int, np.ndarray] = {}  # only for verify == "signature"
        self.pending: dict[int, np.ndarray] = {}  # shingles of documents kept in the shard in progress
        self.stored: dict[int, tuple[int, int]] = {}  # key -> (offset, count) in the shingle file
        self.fd = os.open(store, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(self.fd, committed_bytes)  # drop what a crashed run appended after its last commit
        self.size = committed_bytes

    def close(self) -> None:
        os.close(self.fd)

    def _minhash(self, values: np.ndarray):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.cfg.seed, hashvalues=values, scheme="affine32")

    def _shingles_of(self, key: int) -> np.ndarray:
        if key in self.pending:
            return self.pending[key]
        offset, count = self.stored[key]
        return np.frombuffer(os.pread(self.fd, count * 4, offset), dtype=np.uint32)

    def similarity(self, key: int, sig: np.ndarray, shingles: np.ndarray) -> float:
        if self.cfg.verify == "exact":
            return jaccard(shingles, self._shingles_of(key))
        return float(np.mean(self.signatures[key] == sig))

    def check(self, key: int, sig: np.ndarray, shingles: np.ndarray) -> tuple[int, float] | None:
        """``(key of the kept document it duplicates, similarity)``, or None after adding it to the index."""
        minhash = self._minhash(sig)
        best: tuple[int, float] | None = None
        for candidate in sorted(self.lsh.query(minhash)):
            similarity = self.similarity(candidate, sig, shingles)
            if similarity >= self.cfg.threshold and (best is None or similarity > best[1]):
                best = (candidate, similarity)
        if best is not None:
            return best
        self.lsh.insert(key, minhash, check_duplication=False)
        if self.cfg.verify == "signature":
            self.signatures[key] = sig
        else:
            self.pending[key] = shingles
        return None

    def commit(self) -> tuple[np.ndarray, np.ndarray]:
        """Append the pending shingle sets to the file; ``(keys, offsets)`` to persist with the shard."""
        keys = sorted(self.pending)
        offsets = []
        for key in keys:
            data = np.ascontiguousarray(self.pending[key], dtype=np.uint32).tobytes()
            if data:
                os.pwrite(self.fd, data, self.size)
            self.stored[key] = (self.size, len(data) // 4)
            offsets.append(self.size)
            self.size += len(data)
        self.pending.clear()
        return np.asarray(keys, dtype=np.int64), np.asarray([*offsets, self.size], dtype=np.int64)

    def restore(self, keys: np.ndarray, signatures: np.ndarray, offsets: np.ndarray) -> None:
        """Re-enter a finished shard's kept documents after a restart, in their original order."""
        for i, key in enumerate(keys.tolist()):
            self.lsh.insert(key, self._minhash(signatures[i]), check_duplication=False)
            if self.cfg.verify == "signature":
                self.signatures[key] = signatures[i]
            else:
                self.stored[key] = (int(offsets[i]), int(offsets[i + 1] - offsets[i]) // 4)
