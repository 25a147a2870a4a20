"""Reading a prepared dataset (the output of ``prepare_corpus``): a manifest plus parquet shards per split.

Only pyarrow is needed here: the runner's main process and its worker processes both read shards in streaming
batches, so a corpus larger than memory is never loaded whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATASET_FORMAT = "plumbline.dataset/1"
SPLIT_ORDER = ("train", "validation", "test")


class DatasetError(ValueError):
    """The input folder is not a usable prepared dataset; the message says what to fix."""


@dataclass(frozen=True)
class SplitInfo:
    name: str
    shards: tuple[Path, ...]
    documents: int
    bytes: int


@dataclass(frozen=True)
class PreparedDataset:
    path: Path
    splits: dict[str, SplitInfo]
    fingerprint: str  # sha256 of manifest.json: the same dataset gives the same fingerprint on every host

    @classmethod
    def open(cls, path: Path | str) -> PreparedDataset:
        folder = Path(path)
        manifest_path = folder / "manifest.json"
        if not folder.is_dir():
            raise DatasetError(f"input {folder} is not a folder; point `input` at a prepared dataset")
        if not manifest_path.is_file():
            raise DatasetError(f"{folder} has no manifest.json; is it the output of a prepare_corpus job?")
        raw = manifest_path.read_bytes()
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise DatasetError(f"{manifest_path} is not valid JSON: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != DATASET_FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise DatasetError(f"{manifest_path} has format {found!r}; expected {DATASET_FORMAT!r}")
        splits = {}
        for name, info in (manifest.get("splits") or {}).items():
            shards = tuple(folder / shard for shard in info.get("shards", []))
            missing = [str(s) for s in shards if not s.is_file()]
            if missing:
                raise DatasetError(f"split {name!r} lists shards that do not exist: {missing[:3]}")
            splits[name] = SplitInfo(name, shards, int(info.get("documents", 0)), int(info.get("bytes", 0)))
        ordered = {n: splits[n] for n in SPLIT_ORDER if n in splits}
        ordered.update({n: splits[n] for n in sorted(splits) if n not in ordered})
        return cls(folder, ordered, hashlib.sha256(raw).hexdigest())

    def documents(self, split: str) -> int:
        info = self.splits.get(split)
        return info.documents if info else 0

    def report_split(self) -> str:
        """Where the tokenizer is judged: held-out validation text, falling back to test, then train."""
        for name in ("validation", "test", "train"):
            if self.documents(name) > 0:
                return name
        return "validation"


def iter_rows(shard: Path, columns: list[str], batch_size: int = 1024) -> Iterator[dict[str, list]]:
    """Column batches of one shard, as Python lists."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(shard)
    for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
        yield {name: batch.column(name).to_pylist() for name in columns}


def iter_texts(dataset: PreparedDataset, split: str, max_chars: int | None = None) -> Iterator[str]:
    """The split's texts in manifest order, stopping once ``max_chars`` characters were yielded."""
    seen = 0
    info = dataset.splits.get(split)
    for shard in info.shards if info else ():
        for batch in iter_rows(shard, ["text"]):
            for text in batch["text"]:
                if text is None:
                    continue
                if max_chars is not None and seen >= max_chars:
                    return
                seen += len(text)
                yield text


def first_documents(dataset: PreparedDataset, split: str, count: int) -> list[dict[str, str]]:
    """The first ``count`` documents (id and text) of a split: the same documents for every tokenizer trained on
    the same dataset, so their sample tokenizations line up on the comparison page."""
    out: list[dict[str, str]] = []
    info = dataset.splits.get(split)
    for shard in info.shards if info else ():
        for batch in iter_rows(shard, ["id", "text"], batch_size=max(count, 1)):
            for doc_id, text in zip(batch["id"], batch["text"], strict=True):
                if len(out) >= count:
                    return out
                out.append({"id": str(doc_id), "text": text or ""})
    return out
