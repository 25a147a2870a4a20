"""Turning exported rows into a byte stream (JSONL or Parquet) in constant memory.

Selectors hand rows over in ``Columns`` batches (what they read from one fetch, column by column); JSONL encodes them
row by row, Parquet converts each column to Arrow at once, with no dict per row. Plain row iterators (dicts) are
accepted too and give the same bytes.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

JSONL_FLUSH_BYTES = 256 * 1024
PARQUET_ROW_GROUP = 10_000
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


@dataclass(frozen=True, slots=True)
class Columns:
    """A batch of rows held column by column: ``values[i][j]`` is column ``names[i]`` of row ``j``."""

    names: tuple[str, ...]
    values: Sequence[Sequence[Any]]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def rows(self) -> Iterator[dict[str, Any]]:
        names = self.names
        for row in zip(*self.values, strict=True):
            yield dict(zip(names, row, strict=True))


def rows_of(batches: Iterable[Columns]) -> Iterator[dict[str, Any]]:
    for batch in batches:
        yield from batch.rows()


class AssistantMessages(Sequence):
    """A column of one-message lists, ``[{"role": "assistant", "content": text}]``, made only as they are read.

    Conversational exports hold each pair's chosen and rejected response this way: a row gets a fresh list as it is
    encoded (no list and dict per row kept alive meanwhile: the garbage collector's full passes over those cost more
    than building them, bench/export.py), and Parquet builds the list<struct> column straight from the texts.
    """

    __slots__ = ("texts",)

    def __init__(self, texts: Sequence[str]):
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[list[dict[str, str]]]:
        for text in self.texts:
            yield [{"role": "assistant", "content": text}]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return AssistantMessages(self.texts[index])
        return [{"role": "assistant", "content": self.texts[index]}]

    def __arrow_array__(self, type: pa.DataType | None = None) -> pa.Array:
        """What ``pa.array(list(self))`` gives (type inferred, or the one asked for), without the Python objects."""
        n = len(self.texts)
        struct = pa.StructArray.from_arrays(
            [pa.array(["assistant"] * n, type=pa.string()), pa.array(self.texts, type=pa.string())],
            names=["role", "content"],
        )
        array = pa.ListArray.from_arrays(pa.array(range(n + 1), type=pa.int32()), struct)
        if type is None or array.type == type:
            return array
        return pa.array(list(self), type=type)


def jsonl_stream(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    buf: list[bytes] = []
    size = 0
    for row in rows:
        line = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
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


def _concat(parts: list[Sequence[Any]]) -> Sequence[Any]:
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(part, AssistantMessages) for part in parts):
        return AssistantMessages([text for part in parts for text in part.texts])
    return [value for part in parts for value in part]


def _row_groups(batches: Iterable[Columns]) -> Iterator[Columns]:
    """Batches of any size regrouped into exactly PARQUET_ROW_GROUP rows each (the last one shorter)."""
    size = PARQUET_ROW_GROUP
    pending: list[Columns] = []
    count = 0

    def merged() -> Columns:
        names = pending[0].names
        return Columns(names, [_concat([batch.values[i] for batch in pending]) for i in range(len(names))])

    for batch in batches:
        if not len(batch):
            continue
        pending.append(batch)
        count += len(batch)
        while count >= size:
            group = merged()
            if count == size:
                pending, count = [], 0
                yield group
            else:
                rest = Columns(group.names, [values[size:] for values in group.values])
                pending, count = [rest], count - size
                yield Columns(group.names, [values[:size] for values in group.values])
    if pending:
        yield merged()


def _columns_from_rows(rows: Iterable[dict[str, Any]]) -> Iterator[Columns]:
    """Dict rows as column batches, named by the first row's keys (a key a row lacks is null: from_pylist's rule)."""
    names: tuple[str, ...] | None = None
    batch: list[dict[str, Any]] = []

    def columns() -> Columns:
        return Columns(names, [[row.get(name) for row in batch] for name in names])

    for row in rows:
        if names is None:
            names = tuple(row)
        batch.append(row)
        if len(batch) >= PARQUET_ROW_GROUP:
            yield columns()
            batch = []
    if batch:
        yield columns()


def _table(group: Columns, schema: pa.Schema | None) -> pa.Table:
    if schema is None:
        return pa.Table.from_arrays([pa.array(values) for values in group.values], names=list(group.names))
    where = {name: i for i, name in enumerate(group.names)}
    arrays = [
        pa.array(group.values[where[f.name]] if f.name in where else [None] * len(group), type=f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_columns_stream(batches: Iterable[Columns], schema: pa.Schema | None = None) -> Iterator[bytes]:
    """Parquet written row group by row group; the footer comes last. An empty export is a valid empty file.

    Without a schema, the first row group's values decide it, exactly as ``pa.Table.from_pylist`` would infer it
    (list<struct> columns of message lists included); later row groups are converted to that schema.
    """
    sink = _Drain()
    writer: pq.ParquetWriter | None = None
    for group in _row_groups(batches):
        table = _table(group, schema)
        schema = table.schema
        if writer is None:
            writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
        writer.write_table(table)
        del table  # not held while the next group is read and converted
        if len(group) == PARQUET_ROW_GROUP:  # the last, shorter group goes out with the footer
            yield sink.take()
    if writer is None:
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema or pa.schema([]), compression="zstd")
    writer.close()
    yield sink.take()


def parquet_stream(rows: Iterable[dict[str, Any]], schema: pa.Schema | None = None) -> Iterator[bytes]:
    return parquet_columns_stream(_columns_from_rows(rows), schema)


def stream(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[bytes]:
    return parquet_stream(rows) if fmt == "parquet" else jsonl_stream(rows)


def stream_columns(batches: Iterable[Columns], fmt: str) -> Iterator[bytes]:
    """The export's bytes from column batches (what the API and the commands send)."""
    return parquet_columns_stream(batches) if fmt == "parquet" else jsonl_stream(rows_of(batches))
