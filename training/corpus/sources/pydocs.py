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
from pathlib import Path

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


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_doc_file(rel: Path) -> bool:
    suffix = rel.suffix.lower()
    if _SKIP_DOC_NAMES.match(rel.name):
        return False
    if suffix in (".md", ".rst"):
        return True
    return suffix == ".txt" and rel.name.lower().startswith("readme")


def _skipped(rel: Path) -> bool:
    return any(part in _SKIP_PARTS or part.endswith((".dist-info", ".egg-info")) for part in rel.parts[:-1])


def _stdlib_groups(max_file_bytes: int) -> dict[str, list[Unit]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    groups: dict[str, list[Unit]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_PARTS and not d.startswith(("config-", ".", "__phello__"))
        )
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            rel = rel_dir / name
            path = root / rel
            if max_file_bytes and path.stat().st_size > max_file_bytes:
                continue
            top = rel.parts[0].removesuffix(".py")
            groups.setdefault(f"stdlib/{top}", []).append(Unit(f"stdlib/{top}", "module", str(path), _module_name(rel)))
    return groups


def _distribution_groups(src: SourceConfig) -> tuple[dict[str, list[Unit]], dict[str, set[str]]]:
    groups: dict[str, list[Unit]] = {}
    top_levels: dict[str, set[str]] = {}
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or ""
        key = _normalize(name)
        if not key or key in seen:
            continue  # the same distribution twice on sys.path: the first one is the one Python imports
        seen.add(key)
        base = Path(dist.locate_file(""))
        units: list[Unit] = []
        tops: set[str] = set()
        meta_path = None
        for entry in sorted(dist.files or [], key=lambda p: p.as_posix()):
            rel = Path(entry.as_posix())
            if ".." in rel.parts:
                continue
            if rel.name == "METADATA" and rel.parent.name.endswith(".dist-info"):
                meta_path = base / rel
                continue
            if _skipped(rel) or not rel.parts:
                continue
            path = base / rel
            if rel.suffix == ".py":
                tops.add(rel.parts[0].removesuffix(".py"))
                kind, unit_name = "module", _module_name(rel)
            elif src.include_doc_files and _is_doc_file(rel):
                kind, unit_name = "doc", rel.as_posix()
            else:
                continue
            try:
                if src.max_file_bytes and path.stat().st_size > src.max_file_bytes:
                    continue
            except OSError:
                continue  # listed in RECORD but gone
            units.append(Unit(f"pkg/{key}", kind, str(path), unit_name))
        if src.include_doc_files and meta_path is not None and meta_path.exists():
            units.insert(0, Unit(f"pkg/{key}", "metadata", str(meta_path), "METADATA"))
        if units:
            groups[f"pkg/{key}"] = units
            top_levels[f"pkg/{key}"] = tops
    return dict(sorted(groups.items())), top_levels


def plan(src: SourceConfig, field_prefix: str) -> list[Unit]:
    """Every unit in stream order: round-robin over the selected packages."""
    groups: dict[str, list[Unit]] = {}
    if src.include_stdlib:
        groups.update(sorted(_stdlib_groups(src.max_file_bytes).items()))
    dist_groups, top_levels = _distribution_groups(src)
    groups.update(dist_groups)
    if src.packages:
        wanted = {_normalize(p) for p in src.packages}
        matched: set[str] = set()
        selected = {}
        for group, units in groups.items():
            kind, _, key = group.partition("/")
            names = {_normalize(key)} | {_normalize(t) for t in top_levels.get(group, ())}
            if kind == "stdlib":
                names.add("stdlib")
            if names & wanted:
                selected[group] = units
                matched |= names & wanted
        missing = sorted(wanted - matched)
        if missing:
            raise ConfigError(f"no installed distribution or stdlib module named {missing}", f"{field_prefix}.packages")
        groups = selected
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
