"""Token shards: every prepared parquet shard becomes one part (encoded in a worker process), and the parts of a
split are then joined into ``<split>.bin`` + ``<split>.idx.npy``.

A part is written under a temporary name and renamed into place, so a crash never leaves a half part that resume
would trust; the runner records finished parts in its state file. A part depends only on its parquet shard and the
tokenizer, and parts are joined in manifest order, so the output is byte-identical however many processes ran and
however often the job was resumed.

Each document is stored as ``tokenizer(text).input_ids + [eos]`` (with BOS first when the tokenizer adds it).
"""

from __future__ import annotations

import os
import shutil
import time
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

PART_FILES = ("bin", "lens.npy", "difficulty.npy")
_TOKENIZERS: dict[str, Any] = {}


def part_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}"


def part_path(parts: Path, name: str, suffix: str) -> Path:
    return parts / f"{name}.{suffix}"


def part_complete(parts: Path, name: str, with_counts: bool) -> bool:
    suffixes = PART_FILES + (("counts.npy",) if with_counts else ())
    return all(part_path(parts, name, s).is_file() for s in suffixes)


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.save(fh, array)
    os.replace(tmp, path)


def _load_tokenizer(path: str):
    from tokenizers import Tokenizer

    key = f"{path}:{os.stat(path).st_mtime_ns}"
    if key not in _TOKENIZERS:
        _TOKENIZERS.clear()
        _TOKENIZERS[key] = Tokenizer.from_file(path)
    return _TOKENIZERS[key]


def encode_part(task: dict[str, Any]) -> dict[str, Any]:
    """Worker-process entry point: encode one parquet shard into a part; return its counts (JSON)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    started = time.monotonic()
    tokenizer = _load_tokenizer(task["tokenizer_json"])
    dtype = np.dtype(task["dtype"])
    eos, unk_id, specials_per_doc = task["eos_id"], task["unk_id"], task["specials_per_doc"]
    parts = Path(task["parts"])
    name = task["name"]
    parquet = pq.ParquetFile(task["shard"])
    has_difficulty = "difficulty" in parquet.schema_arrow.names
    columns = ["text"] + (["difficulty"] if has_difficulty else [])
    counts = np.zeros(task["vocab_size"], dtype=np.int64) if task["with_counts"] else None
    stats = {"documents": 0, "tokens": 0, "text_tokens": 0, "chars": 0, "bytes": 0, "words": 0, "unk": 0}
    lens: list[np.ndarray] = []
    difficulty: list[np.ndarray] = []
    bin_path = part_path(parts, name, "bin")
    tmp = bin_path.with_name(f".{bin_path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        for batch in parquet.iter_batches(batch_size=task["batch_size"], columns=columns):
            column = pc.fill_null(batch.column("text"), "")
            encodings = tokenizer.encode_batch_fast(column.to_pylist(), add_special_tokens=True)
            ids = [e.ids for e in encodings]
            n = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(n.sum()))
            # EOS after every document: insert it at each document's end (np.insert keeps order for equal indices)
            tokens = np.insert(flat, np.cumsum(n), np.asarray(eos, dtype=dtype))
            tokens.tofile(out)
            lens.append(n + 1)
            if has_difficulty:
                difficulty.append(pc.fill_null(batch.column("difficulty"), float("nan")).to_numpy(zero_copy_only=False))
            else:
                difficulty.append(np.full(len(ids), np.nan))
            stats["documents"] += len(ids)
            stats["tokens"] += int(tokens.size)
            stats["text_tokens"] += int(n.sum()) - specials_per_doc * len(ids)
            stats["chars"] += int(pc.sum(pc.utf8_length(column)).as_py() or 0)
            stats["bytes"] += int(pc.sum(pc.binary_length(column)).as_py() or 0)
            stats["words"] += int(pc.sum(pc.list_value_length(pc.utf8_split_whitespace(column))).as_py() or 0)
            if unk_id is not None:
                stats["unk"] += int(np.count_nonzero(flat == unk_id))
            if counts is not None:
                counts += np.bincount(flat, minlength=counts.size)[: counts.size]
                if specials_per_doc:  # count text tokens only: drop the BOS the tokenizer put before each document
                    counts[task["bos_id"]] -= len(ids)
    _atomic_save(part_path(parts, name, "lens.npy"), _concat(lens, np.int64))
    _atomic_save(part_path(parts, name, "difficulty.npy"), _concat(difficulty, np.float64))
    if counts is not None:
        _atomic_save(part_path(parts, name, "counts.npy"), counts)
    os.replace(tmp, bin_path)  # last: the .bin's presence marks the part complete
    stats["seconds"] = round(time.monotonic() - started, 3)
    return stats


def _concat(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


def assemble_split(
    parts: Path, names: list[str], output: Path, split: str, dtype: np.dtype, *, curriculum: bool
) -> dict[str, int]:
    """Join a split's parts into ``<split>.bin``, ``<split>.idx.npy`` (document start offsets) and
    ``<split>.difficulty.npy`` (each document's difficulty, NaN where the dataset has none).

    With ``curriculum`` the documents are reordered by ascending difficulty (stable, so ties keep the prepared
    order; documents without a score go last).
    """
    lens = _concat([np.load(part_path(parts, n, "lens.npy")) for n in names], np.int64)
    starts = np.cumsum(lens) - lens
    bin_out = output / f"{split}.bin"
    tmp_bin = output / f".{split}.bin.tmp"
    with tmp_bin.open("wb") as out:
        for name in names:
            with part_path(parts, name, "bin").open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    difficulty = _concat([np.load(part_path(parts, n, "difficulty.npy")) for n in names], np.float64)
    if curriculum and lens.size:
        order = np.argsort(difficulty, kind="stable")
        joined, tmp_bin = tmp_bin, output / f".{split}.curriculum.tmp"
        _write_reordered(joined, tmp_bin, dtype, starts, lens, order)
        joined.unlink()
        lens, difficulty = lens[order], difficulty[order]
        starts = np.cumsum(lens) - lens
    _atomic_save(output / f"{split}.idx.npy", starts.astype(np.int64))
    _atomic_save(output / f"{split}.difficulty.npy", difficulty)
    os.replace(tmp_bin, bin_out)
    return {"tokens": int(lens.sum()), "documents": int(lens.size)}


def _write_reordered(source: Path, target: Path, dtype, starts, lens, order, chunk: int = 8192) -> None:
    tokens = np.memmap(source, dtype=dtype, mode="r")
    with target.open("wb") as out:
        for first in range(0, order.size, chunk):
            picked = order[first : first + chunk]
            np.concatenate([tokens[s : s + n] for s, n in zip(starts[picked], lens[picked], strict=True)]).tofile(out)
    del tokens
