"""Files out of artifact folders: one file as is, or a folder as a zip streamed while it is written.

Every path a request names is resolved (symlinks included) and must stay inside the artifact's folder, which must
itself lie inside ARTIFACTS_ROOT; anything else is refused. The zip is produced by ``zipfile`` writing into a
non-seekable sink that the response drains chunk by chunk, so a multi-gigabyte model folder streams in constant
memory and the first bytes leave before the last file is read.
"""

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

CHUNK = 1 << 20
# Already compressed (or incompressible) formats are stored; deflating them would only burn CPU.
STORED_SUFFIXES = {".parquet", ".safetensors", ".bin", ".pt", ".npy", ".gz", ".zip", ".zst", ".arrow", ".idx"}


def resolve_inside(base: Path, relative: str = "") -> Path | None:
    """``base / relative`` resolved, or None when it escapes ``base`` (``..``, absolute paths, symlinks out)."""
    root = Path(settings.ARTIFACTS_ROOT).resolve()
    base = base.resolve()
    if not base.is_relative_to(root) or "\x00" in relative:
        return None
    target = (base / relative).resolve() if relative else base
    return target if target.is_relative_to(base) else None


def folder_files(folder: Path, limit: int | None = None) -> list[Path]:
    """Regular files under ``folder`` in sorted order, skipping symlinks that lead outside it."""
    base = folder.resolve()
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            resolved = path.resolve()
            if resolved.is_file() and resolved.is_relative_to(base):
                out.append(path)
                if limit is not None and len(out) >= limit:
                    return out
    return out


class _Sink(io.RawIOBase):
    """A write-only, non-seekable buffer: zipfile then writes data descriptors instead of seeking back."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(folder: Path) -> Iterator[bytes]:
    base = folder.resolve()
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for path in folder_files(base):
            info = zipfile.ZipInfo.from_file(path, arcname=str(path.relative_to(base)))
            stored = path.suffix.lower() in STORED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with path.open("rb") as src, archive.open(info, mode="w") as dest:
                while chunk := src.read(CHUNK):
                    dest.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    yield sink.drain()
