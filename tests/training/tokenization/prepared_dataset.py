"""Small prepared datasets in the ``plumbline.dataset/1`` layout, written here so tokenizer tests need no
prepare_corpus job: text every machine has (docstrings of the standard library), split and sharded."""

import hashlib
import inspect
import json
from pathlib import Path

MODULES = ("collections", "json", "textwrap", "inspect", "pathlib", "argparse", "logging", "unittest", "decimal")


def stdlib_documents() -> list[str]:
    import importlib

    docs, seen = [], set()
    for name in MODULES:
        module = importlib.import_module(name)
        objects = [obj for _, obj in inspect.getmembers(module)]
        objects += [m for o in objects if inspect.isclass(o) for _, m in inspect.getmembers(o)]
        for obj in objects:
            doc = inspect.getdoc(obj)
            if doc and doc not in seen:
                seen.add(doc)
                docs.append(doc)
    return docs


def write_prepared_dataset(
    folder: Path, splits: dict[str, list[str]], *, shard_docs: int = 100, difficulty=None
) -> Path:
    """Parquet shards of ``shard_docs`` documents per split plus manifest.json; difficulty defaults to a
    deterministic function of the text (its length), so curriculum order is checkable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "plumbline.dataset/1", "splits": {}}
    for split, texts in splits.items():
        shards = []
        for start in range(0, max(len(texts), 1), shard_docs):
            chunk = texts[start : start + shard_docs]
            if not chunk and start > 0:
                break
            ids = [hashlib.sha256(f"{split}:{start + i}".encode()).hexdigest()[:16] for i in range(len(chunk))]
            table = pa.table(
                {
                    "id": pa.array(ids, pa.string()),
                    "text": pa.array(chunk, pa.string()),
                    "source": pa.array(["stdlib"] * len(chunk), pa.string()),
                    "split": pa.array([split] * len(chunk), pa.string()),
                    "difficulty": pa.array(
                        [float(difficulty(t) if difficulty else len(t) % 97) for t in chunk], pa.float64()
                    ),
                    "flags": pa.array([[] for _ in chunk], pa.list_(pa.string())),
                    "n_chars": pa.array([len(t) for t in chunk], pa.int64()),
                }
            )
            name = f"{split}-{len(shards):05d}.parquet"
            pq.write_table(table, folder / name)
            shards.append(name)
        manifest["splits"][split] = {
            "shards": shards,
            "documents": len(texts),
            "bytes": sum(len(t.encode()) for t in texts),
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def standard_splits(docs: list[str]) -> dict[str, list[str]]:
    n = len(docs)
    return {
        "train": docs[: int(n * 0.8)],
        "validation": docs[int(n * 0.8) : int(n * 0.9)],
        "test": docs[int(n * 0.9) :],
    }
