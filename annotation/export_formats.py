"""Turning a row iterator into a byte stream (JSONL or Parquet) in constant memory."""

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

JSONL_FLUSH_BYTES = 256 * 1024
PARQUET_ROW_GROUP = 10_000
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


def jsonl_stream(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    buf: list[bytes] = []
    size = 0
    for row in rows:
        line = orjson.dumps(row) + b"\n"
        buf.append(line)
        size += len(line)
        if size >= JSONL_FLUSH_BYTES:
            yield b"".join(buf)
            buf, size = [], 0
    if buf:
        yield b"".join(buf)


class _Drain:
    """A write-only file whose bytes the generator hands out after each row group."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False
        self.position = 0

    def write(self, data) -> int:
        b = bytes(data)
        self.parts.append(b)
        self.position += len(b)
        return len(b)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def parquet_stream(rows: Iterable[dict[str, Any]], schema: pa.Schema | None = None) -> Iterator[bytes]:
    """Parquet written row group by row group; the footer comes last. An empty export is a valid empty file."""
    sink = _Drain()
    writer: pq.ParquetWriter | None = None
    batch: list[dict[str, Any]] = []

    def write(batch_rows: list[dict[str, Any]]) -> None:
        nonlocal writer, schema
        table = pa.Table.from_pylist(batch_rows, schema=schema)
        if writer is None:
            schema = table.schema
            writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
        writer.write_table(table)

    for row in rows:
        batch.append(row)
        if len(batch) >= PARQUET_ROW_GROUP:
            write(batch)
            batch = []
            yield sink.take()
    if batch or writer is None:
        if batch:
            write(batch)
        else:
            writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema or pa.schema([]), compression="zstd")
    writer.close()
    yield sink.take()


def stream(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[bytes]:
    return parquet_stream(rows) if fmt == "parquet" else jsonl_stream(rows)
