"""A document's whitespace-separated words and what several steps compute from them, each computed once.

The Gopher repetition rules and the difficulty score look at the same words: their lengths and a per-document
vocabulary (word ids in order of first occurrence).
"""

import itertools

import numpy as np


class Words:
    """``words``: whitespace-separated tokens (``str.split()``); the rest on first use."""

    __slots__ = ("_ids", "_lengths", "words")

    def __init__(self, words: list[str]):
        self.words = words
        self._ids: np.ndarray | None = None
        self._lengths: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.words)

    @property
    def ids(self) -> np.ndarray:
        """uint64 per word: the index of its first occurrence among the distinct words."""
        if self._ids is None:
            vocab = dict(zip(dict.fromkeys(self.words), itertools.count()))
            self._ids = np.fromiter(map(vocab.__getitem__, self.words), dtype=np.uint64, count=len(self.words))
        return self._ids

    @property
    def lengths(self) -> np.ndarray:
        """int64 per word: its length in characters."""
        if self._lengths is None:
            self._lengths = np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words))
        return self._lengths

    def total_chars(self) -> int:
        return int(self.lengths.sum())
