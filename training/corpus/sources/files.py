"""Local files and folders: txt and md (one document per file), jsonl (one per line), parquet (one per row).

Folders are walked in sorted order so the stream (and with it the output) is the same on every run. Binary and
non-UTF-8 files are errors by default, naming the file, because silently skipping them hides a wrong path.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from ...configs import ConfigError
from ..config import SourceConfig
from ..documents import CorpusError, Document

_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_SNIFF_BYTES = 8192


def _format_of(path: Path) -> str | None:
    return _EXTENSIONS.get(path.suffix.lower())


def list_files(src: SourceConfig, field_prefix: str) -> tuple[Path, list[Path]]:
    """The root and the files to read, in a stable order; a missing path is a config error naming the field."""
    root = Path(src.path).expanduser()
    if not root.exists():
        raise ConfigError(f"{src.path} does not exist on this machine", f"{field_prefix}.path")
    if root.is_file():
        if _format_of(root) is None:
            raise ConfigError(
                f"{root.name}: unknown file type; use one of .txt .md .jsonl .parquet", f"{field_prefix}.path"
            )
        return root.parent, [root]
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            fmt = _format_of(path)
            if fmt is not None and fmt in src.formats and not name.startswith("."):
                files.append(path)
    if not files:
        raise ConfigError(f"{src.path} holds no {'/'.join(src.formats)} files", f"{field_prefix}.path")
    return root, files


def _decode(data: bytes, path: Path, policy: str) -> str | None:
    if b"\x00" in data[:_SNIFF_BYTES]:
        if policy == "error":
            raise CorpusError(f"{path} looks binary (it has NUL bytes); remove it or set on_decode_error: skip")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if policy == "replace":
            return data.decode("utf-8-sig", errors="replace")
        if policy == "error":
            raise CorpusError(
                f"{path} is not UTF-8 (byte {exc.start}: {exc.reason}); convert it, or set on_decode_error to "
                "skip or replace"
            ) from None
        return None


def _read_text_file(path: Path, rel: str, src: SourceConfig) -> Iterator[Document]:
    text = _decode(path.read_bytes(), path, src.on_decode_error)
    if text is not None:
        yield Document(f"{src.label}/{rel}", text, src.label)


def _read_jsonl(path: Path, rel: str, src: SourceConfig) -> Iterator[Document]:
    import orjson

    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)  # straight from the bytes: orjson checks the UTF-8 itself
            except orjson.JSONDecodeError:
                # not valid UTF-8 (the decode policy applies), a byte-order mark, or not JSON at all
                line = _decode(raw, path, src.on_decode_error)
                if line is None:
                    continue
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    if src.on_decode_error != "error":
                        continue
                    raise CorpusError(f"{path}:{number} is not valid JSON ({exc})") from None
            text = row.get(src.text_field) if isinstance(row, dict) else None
            if not isinstance(text, str):
                if src.on_decode_error != "error":
                    continue
                raise CorpusError(
                    f"{path}:{number} has no string field {src.text_field!r}; set text_field to the field that "
                    f"holds the text (this row has {sorted(row) if isinstance(row, dict) else type(row).__name__})"
                )
            local = str(row.get(src.id_field)) if src.id_field and row.get(src.id_field) is not None else str(number)
            yield Document(f"{src.label}/{rel}:{local}", text, src.label)


def _read_parquet(path: Path, rel: str, src: SourceConfig) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends for a file that is not parquet
        raise CorpusError(f"{path} is not a readable parquet file ({exc})") from None
    names = parquet.schema_arrow.names
    if src.text_field not in names:
        raise CorpusError(f"{path} has no column {src.text_field!r}; its columns are {names}; set text_field")
    columns = [src.text_field] + ([src.id_field] if src.id_field and src.id_field in names else [])
    row = 0
    for batch in parquet.iter_batches(batch_size=1024, columns=columns):
        texts = batch.column(0).to_pylist()
        ids = batch.column(1).to_pylist() if len(columns) > 1 else None
        for i, text in enumerate(texts):
            row += 1
            if not isinstance(text, str):
                continue  # nulls: nothing to read
            local = str(ids[i]) if ids is not None and ids[i] is not None else str(row)
            yield Document(f"{src.label}/{rel}:{local}", text, src.label)


_READERS = {"txt": _read_text_file, "md": _read_text_file, "jsonl": _read_jsonl, "parquet": _read_parquet}


def iter_files(src: SourceConfig, field_prefix: str) -> Iterator[Document]:
    root, files = list_files(src, field_prefix)
    for path in files:
        rel = path.relative_to(root).as_posix() if path != root else path.name
        yield from _READERS[_format_of(path)](path, rel, src)
