"""Token shards on disk and the reader pretraining uses.

Layout of a ``tokens/`` folder::

    meta.json            {"format": "plumbline.tokens/1", "dtype", "vocab_size", "eos_id", "bos_id", "splits",
                          "tokenizer": "../tokenizer", "order": "as-prepared" | "curriculum"}
    <split>.bin          every document's ids followed by EOS, concatenated (flat, ``dtype``)
    <split>.idx.npy      int64 start offset of each document in <split>.bin
    <split>.difficulty.npy  float64 difficulty of each document, in stored order (NaN: not scored)

The reader memory-maps the ``.bin`` files, so a corpus of billions of tokens costs no RAM until it is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

TOKENS_FORMAT = "plumbline.tokens/1"


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 while every id fits (vocabularies up to 65,535 entries), else uint32: half the disk and I/O."""
    return np.dtype(np.uint16) if vocab_size <= 65535 else np.dtype(np.uint32)


class TokenShards:
    """Read-only access to a ``tokens/`` folder written by ``train_tokenizer``."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        meta_path = self.path / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{self.path} has no meta.json; is it the tokens/ folder of a train_tokenizer job?")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if self.meta.get("format") != TOKENS_FORMAT:
            raise ValueError(f"{meta_path} has format {self.meta.get('format')!r}; expected {TOKENS_FORMAT!r}")
        self.dtype = np.dtype(self.meta["dtype"])
        self.vocab_size: int = self.meta["vocab_size"]
        self.eos_id: int = self.meta["eos_id"]
        self.bos_id: int | None = self.meta.get("bos_id")

    @property
    def splits(self) -> list[str]:
        return list(self.meta["splits"])

    @property
    def tokenizer_path(self) -> Path:
        return (self.path / self.meta["tokenizer"]).resolve()

    def _check(self, split: str) -> None:
        if split not in self.meta["splits"]:
            raise KeyError(f"no split {split!r} in {self.path}; splits: {self.splits}")

    def num_tokens(self, split: str) -> int:
        self._check(split)
        return int(self.meta["splits"][split]["tokens"])

    def num_documents(self, split: str) -> int:
        self._check(split)
        return int(self.meta["splits"][split]["documents"])

    def split_tokens(self, split: str) -> np.ndarray:
        """All of a split's tokens as one read-only array (a memmap; empty splits give an empty array)."""
        if self.num_tokens(split) == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.memmap(self.path / f"{split}.bin", dtype=self.dtype, mode="r")

    def document_starts(self, split: str) -> np.ndarray:
        self._check(split)
        return np.load(self.path / f"{split}.idx.npy", mmap_mode="r")

    def document_difficulty(self, split: str) -> np.ndarray:
        self._check(split)
        return np.load(self.path / f"{split}.difficulty.npy", mmap_mode="r")

    def documents(self, split: str) -> Iterator[np.ndarray]:
        """Each document's tokens, its trailing EOS included."""
        tokens = self.split_tokens(split)
        starts = self.document_starts(split)
        ends = np.append(starts[1:], tokens.size)
        for start, end in zip(starts, ends, strict=True):
            yield tokens[start:end]

    def num_sequences(self, split: str, seq_len: int) -> int:
        return self.num_tokens(split) // seq_len

    def sequence(self, split: str, seq_len: int, index: int) -> np.ndarray:
        """The ``index``-th packed window (random access, for shuffled sampling)."""
        if not 0 <= index < self.num_sequences(split, seq_len):
            raise IndexError(f"sequence {index} out of range for {split!r} with seq_len {seq_len}")
        return self.split_tokens(split)[index * seq_len : (index + 1) * seq_len]

    def iter_sequences(self, split: str, seq_len: int, *, start: int = 0) -> Iterator[np.ndarray]:
        """Consecutive windows of ``seq_len`` tokens packed across document boundaries (EOS separates them); the
        last incomplete window is dropped. ``start`` is the window to begin at, for resuming a data position."""
        if seq_len < 1:
            raise ValueError("seq_len must be at least 1")
        tokens = self.split_tokens(split)
        for index in range(start, tokens.size // seq_len):
            yield tokens[index * seq_len : (index + 1) * seq_len]
