"""``pydocs``: the documentation of the installed Python packages, a real corpus present on every machine.

Each module becomes one document (its module, class and function docstrings in source order); each ``.md``/``.rst``
file shipped inside a package and each distribution's long description (METADATA) becomes another. Packages are
read round-robin (one file from each in turn, stdlib modules first, then distributions by name), so a byte budget
cuts every package a little rather than dropping whole ones; ``max_bytes_per_package`` stops a giant such as torch
from dominating. Extraction runs in the worker pool, in order, and the budgets are applied in that order in the
main process, so the stream is identical however many workers run.
"""

import email
import importlib.metadata
import os
import re
import sysconfig
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from ...configs import ConfigError
from ..config import SourceConfig
from ..docstrings import module_document
from ..documents import Document

_SKIP_PARTS = frozenset({"test", "tests", "idle_test", "__pycache__", "site-packages", "dist-packages", "lib-dynload"})
_SKIP_DOC_NAMES = re.compile(r"^(license|licence|copying|notice|authors|contributors|top_level|entry_points)", re.I)
_CHUNK = 16


@dataclass(frozen=True)
class Unit:
    """One file to turn into (at most) one document; ``group`` is the package whose budget it counts against."""

    group: str
    kind: str  # module, doc, metadata
    path: str
    name: str  # the dotted module name, the doc file's package-relative path, or the distribution's name


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_doc_file(name: str) -> bool:
    lower = name.lower()
    if _SKIP_DOC_NAMES.match(name):
        return False
    return lower.endswith((".md", ".rst")) or (lower.endswith(".txt") and lower.startswith("readme"))


def _skipped(parts: list[str]) -> bool:
    return any(part in _SKIP_PARTS or part.endswith((".dist-info", ".egg-info")) for part in parts[:-1])


def _small_enough(path: str, limit: int) -> bool:
    try:
        return not limit or os.stat(path).st_size <= limit
    except OSError:
        return False  # listed in RECORD but gone


def _stdlib_groups(src: SourceConfig, wanted: set[str] | None) -> dict[str, list[Unit]]:
    root = sysconfig.get_paths()["stdlib"]
    groups: dict[str, list[Unit]] = {}
    for top_name in sorted(os.listdir(root)):
        top = top_name.removesuffix(".py")
        if top_name.startswith((".", "config-", "__phello__")) or top_name in _SKIP_PARTS:
            continue
        if wanted is not None and not ({"stdlib", _normalize(top)} & wanted):
            continue
        top_path = os.path.join(root, top_name)
        if top_name.endswith(".py"):
            files = [top_name]
        elif os.path.isdir(top_path):
            files = []
            for dirpath, dirnames, filenames in os.walk(top_path):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_PARTS and not d.startswith("."))
                rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
                files += [f"{rel_dir}/{name}" for name in sorted(filenames) if name.endswith(".py")]
        else:
            continue
        units = [
            Unit(f"stdlib/{top}", "module", os.path.join(root, rel), _module_name(rel))
            for rel in files
            if _small_enough(os.path.join(root, rel), src.max_file_bytes)
        ]
        if units:
            groups[f"stdlib/{top}"] = units
    return groups


def _record_paths(dist) -> list[str]:
    """The distribution's files as relative paths; RECORD is parsed directly (``dist.files`` builds a pathlib
    object per line, seconds for a large environment)."""
    record = dist.read_text("RECORD")
    if record is not None:
        return sorted({line.split(",", 1)[0].strip('"') for line in record.splitlines() if line.strip()})
    return sorted(p.as_posix() for p in (dist.files or []))


def _top_levels(dist, paths: list[str] | None) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    return {p.split("/", 1)[0].removesuffix(".py") for p in (paths or []) if p.endswith(".py")}


def _distribution_groups(src: SourceConfig, wanted: set[str] | None) -> dict[str, list[Unit]]:
    groups: dict[str, list[Unit]] = {}
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        key = _normalize(dist.metadata["Name"] or "")
        if not key or key in seen:
            continue  # the same distribution twice on sys.path: the first one is the one Python imports
        seen.add(key)
        paths = None
        if wanted is not None and key not in wanted:
            paths = _record_paths(dist)
            if not {_normalize(t) for t in _top_levels(dist, paths)} & wanted:
                continue
        base = str(dist.locate_file(""))
        units: list[Unit] = []
        for rel in paths if paths is not None else _record_paths(dist):
            parts = rel.split("/")
            if ".." in parts or not rel:
                continue
            path = os.path.join(base, rel)
            if parts[-1] == "METADATA" and len(parts) == 2 and parts[0].endswith(".dist-info"):
                if src.include_doc_files and os.path.exists(path):
                    units.insert(0, Unit(f"pkg/{key}", "metadata", path, "METADATA"))
                continue
            if _skipped(parts):
                continue
            if rel.endswith(".py"):
                kind, unit_name = "module", _module_name(rel)
            elif src.include_doc_files and _is_doc_file(parts[-1]):
                kind, unit_name = "doc", rel
            else:
                continue
            if _small_enough(path, src.max_file_bytes):
                units.append(Unit(f"pkg/{key}", kind, path, unit_name))
        if units:
            groups[f"pkg/{key}"] = units
    return dict(sorted(groups.items()))


def _names(group: str, units: list[Unit]) -> set[str]:
    kind, _, key = group.partition("/")
    names = {_normalize(key)}
    if kind == "stdlib":
        names.add("stdlib")
    else:
        names |= {_normalize(u.name.split(".", 1)[0]) for u in units if u.kind == "module"}
    return names


def plan(src: SourceConfig, field_prefix: str) -> list[Unit]:
    """Every unit in stream order: round-robin over the selected packages."""
    wanted = {_normalize(p) for p in src.packages} or None
    groups: dict[str, list[Unit]] = {}
    if src.include_stdlib:
        groups.update(_stdlib_groups(src, wanted))
    groups.update(_distribution_groups(src, wanted))
    if wanted is not None:
        matched = set().union(*(_names(g, u) for g, u in groups.items())) & wanted
        missing = sorted(wanted - matched)
        if missing:
            raise ConfigError(f"no installed distribution or stdlib module named {missing}", f"{field_prefix}.packages")
    queues = [deque(units) for units in groups.values()]
    order: list[Unit] = []
    while queues:
        queues = [q for q in queues if q]
        for queue in queues:
            order.append(queue.popleft())
    return order


def _description(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        message = email.message_from_file(fh)
    body = message.get_payload()
    if isinstance(body, str) and body.strip():
        return body
    header = message.get("Description") or ""
    return re.sub(r"\n {8}\|?", "\n", header)  # the old in-header form indents continuation lines


def extract(units: list[Unit]) -> list[str]:
    """Worker side: the text of each unit ('' when it has none or cannot be decoded)."""
    texts = []
    for unit in units:
        try:
            if unit.kind == "metadata":
                text = _description(unit.path)
            else:
                with open(unit.path, "rb") as fh:
                    raw = fh.read()
                source = raw.decode("utf-8-sig")
                text = module_document(unit.name, source) if unit.kind == "module" else source
        except (OSError, UnicodeDecodeError, ValueError):
            text = ""
        texts.append(text)
    return texts


def iter_pydocs(src: SourceConfig, field_prefix: str, executor) -> Iterator[Document]:
    units = plan(src, field_prefix)
    group_bytes: dict[str, int] = {}
    full: set[str] = set()
    total = 0

    def chunks():
        batch = []
        for unit in units:
            if unit.group in full:
                continue  # already over its budget: no point extracting it (the decision below stays in order)
            batch.append(unit)
            if len(batch) == _CHUNK:
                yield (batch,)
                batch = []
        if batch:
            yield (batch,)

    for (batch,), texts in executor.ordered_map(extract, chunks(), with_items=True):
        for unit, text in zip(batch, texts, strict=True):
            if not text.strip() or unit.group in full:
                continue
            size = len(text.encode("utf-8"))
            if src.max_bytes and total + size > src.max_bytes:
                return
            if src.max_bytes_per_package and group_bytes.get(unit.group, 0) + size > src.max_bytes_per_package:
                full.add(unit.group)
                continue
            group_bytes[unit.group] = group_bytes.get(unit.group, 0) + size
            total += size
            yield Document(f"{src.label}/{unit.group}/{unit.name}", text, src.label)
