"""Parquet on disk: the work shards a run commits one by one, and the final dataset they are regrouped into.

Each committed shard is a folder written under a temporary name and renamed into place, so a crash leaves either
the whole shard or none of it. The final dataset regroups the rows by split into files of at most
``output_shard_documents`` rows, in document order: its bytes depend only on the documents, not on how the work
was cut or interrupted, which is what makes a resumed run's output identical to an uninterrupted one.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .splits import SPLITS

FORMAT = "plumbline.dataset/1"
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("split", pa.string()),
        ("difficulty", pa.float64()),
        ("flags", pa.list_(pa.string())),
        ("n_chars", pa.int64()),
    ]
)
_ROW_GROUP = 10_000


def write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=_ROW_GROUP)


# Arrays are assembled from their buffers rather than converted by ``pa.array``: any conversion of Python objects
# makes pyarrow import pandas (a fifth of a CPU-second) to check whether they are pandas objects.


def _buffer_array(arrow_type: pa.DataType, values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def _offsets(sizes: list[int]) -> np.ndarray:
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def string_array(values: list[str]) -> pa.Array:
    """A ``pa.string()`` array of ``values`` (no nulls)."""
    offsets = _offsets([len(v) if v.isascii() else len(v.encode("utf-8")) for v in values])
    if offsets[-1] >= 2**31:
        return pa.array(values, type=pa.string())  # past 32-bit offsets: let pyarrow chunk it
    data = "".join(values).encode("utf-8")
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))


def _list_array(values: list[list[str]]) -> pa.Array:
    offsets = _offsets([len(v) for v in values]).astype(np.int32)
    flat = string_array([item for items in values for item in items])
    return pa.ListArray.from_arrays(_buffer_array(pa.int32(), offsets), flat, type=pa.list_(pa.string()))


def rows_table(columns: dict[str, list]) -> pa.Table:
    arrays = []
    for name in SCHEMA.names:
        arrow_type = SCHEMA.field(name).type
        values = columns[name]
        if arrow_type == pa.string():
            arrays.append(string_array(values))
        elif arrow_type == pa.float64():
            arrays.append(_buffer_array(arrow_type, np.asarray(values, dtype=np.float64)))
        elif arrow_type == pa.int64():
            arrays.append(_buffer_array(arrow_type, np.asarray(values, dtype=np.int64)))
        else:
            arrays.append(_list_array(values))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """``pq.read_table`` without the dataset layer (which imports pandas), for one file."""
    return pq.ParquetFile(path).read(columns=columns)


def atomic_write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def shard_dir(work: Path, index: int) -> Path:
    return work / "shards" / f"{index:05d}"


def commit_shard(work: Path, index: int, write) -> Path:
    """Call ``write(tmp_folder)`` and move the folder into place in one rename."""
    final = shard_dir(work, index)
    tmp = final.with_name(f".tmp-{final.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def file_sha256(path: Path, digest=None):
    digest = digest or hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest


def build_dataset(work: Path, shards: int, tmp: Path, rows_per_file: int) -> dict:
    """Regroup the work shards into the empty folder ``tmp``; the manifest's ``splits`` (files in order)."""
    splits: dict[str, dict] = {}
    for split in SPLITS:
        files, documents, size = [], 0, 0
        buffer: list[pa.Table] = []
        buffered = 0

        def flush(buffer: list[pa.Table], files: list[str], split: str = split) -> None:
            name = f"{split}-{len(files):05d}.parquet"
            write_table(pa.concat_tables(buffer).combine_chunks(), tmp / name)
            files.append(name)

        wanted = string_array([split])[0]
        for index in range(shards):
            table = read_table(shard_dir(work, index) / "rows.parquet")
            table = table.filter(pc.equal(table["split"], wanted))
            offset = 0
            while offset < table.num_rows:
                take = min(rows_per_file - buffered, table.num_rows - offset)
                part = table.slice(offset, take)
                buffer.append(part)
                buffered += take
                offset += take
                documents += take
                size += pc.sum(pc.binary_length(part["text"])).as_py() or 0
                if buffered == rows_per_file:
                    flush(buffer, files)
                    buffer, buffered = [], 0
        if buffer:
            flush(buffer, files)
        splits[split] = {"shards": files, "documents": documents, "bytes": size}
    return splits


def dataset_sha256(target: Path, splits: dict) -> str:
    digest = hashlib.sha256()
    for split in SPLITS:
        for name in splits[split]["shards"]:
            file_sha256(target / name, digest)
    return digest.hexdigest()
