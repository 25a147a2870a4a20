"""Packed training windows over token shards, in a deterministic order that a single integer position resumes.

Sample ``g`` of the run is window ``perm_e[g mod n]`` of epoch ``e = g div n`` (a seeded permutation per epoch), so
the data position after any step is just the number of samples consumed. With several processes, process ``r``
takes samples ``base + r·micro … base + (r+1)·micro - 1`` of each micro-step: together they see exactly the batch a
single process with the same global batch sees.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np


class TokenSplit:
    def __init__(self, folder: Path, split: str):
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text())
        path = self.folder / f"{split}.bin"
        if not path.exists():
            raise FileNotFoundError(f"token shards at {self.folder} have no {split} split ({path.name})")
        self.tokens = np.memmap(path, dtype=np.dtype(self.meta["dtype"]), mode="r")
        idx = self.folder / f"{split}.idx.npy"
        self.doc_starts = np.load(idx) if idx.exists() else None
        difficulty = self.folder / f"{split}.difficulty.npy"
        self.doc_difficulty = np.load(difficulty) if difficulty.exists() else None

    def __len__(self) -> int:
        return len(self.tokens)


class PackedWindows:
    def __init__(self, split: TokenSplit, seq_len: int, seed: int):
        self.split = split
        self.seq_len = seq_len
        self.seed = seed
        self.n_windows = (len(split) - 1) // seq_len
        if self.n_windows < 1:
            raise ValueError(f"the split has {len(split)} tokens: fewer than one window of {seq_len + 1}")
        self._easy_order: np.ndarray | None = None

    @lru_cache(maxsize=2)  # noqa: B019 - two epochs in flight at most; the object lives for the whole run
    def _perm(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.n_windows)

    def window(self, index: int) -> np.ndarray:
        start = index * self.seq_len
        return np.asarray(self.split.tokens[start : start + self.seq_len + 1], dtype=np.int64)

    def sample_index(self, g: int) -> int:
        epoch, i = divmod(g, self.n_windows)
        return int(self._perm(epoch)[i])

    def batch(self, first_sample: int, size: int) -> np.ndarray:
        """``size`` windows of seq_len + 1 tokens starting at global sample ``first_sample``."""
        return np.stack([self.window(self.sample_index(g)) for g in range(first_sample, first_sample + size)])

    # --- curriculum ------------------------------------------------------------------------------------------
    def easy_order(self) -> np.ndarray:
        """Windows sorted from easy to hard by the difficulty of the document each window starts in."""
        if self._easy_order is None:
            split = self.split
            if split.doc_difficulty is None or split.doc_starts is None:
                raise ValueError(
                    "curriculum needs per-document difficulty in the token shards (<split>.difficulty.npy); "
                    "re-tokenize a dataset prepared with difficulty scores, or set curriculum: false"
                )
            starts = np.arange(self.n_windows, dtype=np.int64) * self.seq_len
            doc = np.searchsorted(split.doc_starts, starts, side="right") - 1
            self._easy_order = np.argsort(split.doc_difficulty[np.clip(doc, 0, None)], kind="stable")
        return self._easy_order

    def curriculum_batch(self, first_sample: int, size: int, fraction_of_pool: float) -> np.ndarray:
        """Windows drawn (deterministically per sample) from the easiest ``fraction_of_pool`` of the data."""
        order = self.easy_order()
        pool = max(1, round(fraction_of_pool * self.n_windows))
        picks = [
            int(order[np.random.default_rng([self.seed, 7, g]).integers(pool)])
            for g in range(first_sample, first_sample + size)
        ]
        return np.stack([self.window(i) for i in picks])
