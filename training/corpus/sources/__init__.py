"""Every source as one ordered stream of documents: sources in config order, each in its own stable order."""

import dataclasses
from collections.abc import Iterator

from ..config import SourceConfig
from ..documents import Document
from .files import iter_files
from .hf import iter_hf
from .pydocs import iter_pydocs


def labelled(sources: list[SourceConfig]) -> list[SourceConfig]:
    """Sources with unique labels (a repeated label gets ``#2``, ``#3``), so document ids never collide."""
    seen: dict[str, int] = {}
    out = []
    for src in sources:
        label = src.label
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label}#{seen[label]}"
        out.append(dataclasses.replace(src, name=label))
    return out


def _one(src: SourceConfig, index: int, executor) -> Iterator[Document]:
    prefix = f"sources[{index}]"
    if src.type == "files":
        return iter_files(src, prefix)
    if src.type == "hf":
        return iter_hf(src)
    return iter_pydocs(src, prefix, executor)


def iter_documents(sources: list[SourceConfig], executor) -> Iterator[Document]:
    for index, src in enumerate(labelled(sources)):
        for count, doc in enumerate(_one(src, index, executor), start=1):
            yield doc
            if src.max_documents and count >= src.max_documents:
                break


def check_sources(sources: list[SourceConfig]) -> None:
    """Fail fast on a missing path or an unknown package, before any worker starts."""
    from .files import list_files
    from .pydocs import plan

    for index, src in enumerate(labelled(sources)):
        if src.type == "files":
            list_files(src, f"sources[{index}]")
        elif src.type == "pydocs" and src.packages:
            plan(src, f"sources[{index}]")


def estimate_bytes(sources: list[SourceConfig]) -> int | None:
    """Roughly how many bytes the stream will carry (for the progress bar), or None when it cannot be known."""
    from .files import list_files

    total = 0
    for index, src in enumerate(labelled(sources)):
        if src.type == "files":
            _, files = list_files(src, f"sources[{index}]")
            total += sum(path.stat().st_size for path in files)
        elif src.type == "pydocs" and src.max_bytes and not src.max_documents:
            total += src.max_bytes
        else:
            return None
    return total
