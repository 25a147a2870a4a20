"""Benchmark rows from where the user points: a local JSONL/JSON/parquet file, a dataset folder, a hub name, or the
built-in fixture.

``benchmark_data[suite]`` may be
- a path to a ``.jsonl`` / ``.json`` / ``.parquet`` file in the dataset's original schema (read directly, so errors
  can name the line),
- a path to a folder ``datasets.load_dataset`` understands,
- a Hugging Face dataset name, optionally ``name:config`` and ``@split`` (``cais/mmlu:all@test``), for users with
  network; the suite's usual config and split are the defaults (see ``HUB_DEFAULTS``),
- nothing: the small fixture under ``evaluation/data/fixtures/`` (invented items in the original schema, so demos and
  tests run offline). The run's metrics say which source was used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schemas import BenchmarkDataError, check_rows

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fixtures"
FILE_SUFFIXES = (".jsonl", ".json", ".parquet")

# suite -> (hub name, config, split) of the published dataset
HUB_DEFAULTS: dict[str, tuple[str, str | None, str]] = {
    "mmlu": ("cais/mmlu", "all", "test"),
    "hellaswag": ("Rowan/hellaswag", None, "validation"),
    "truthfulqa": ("truthfulqa/truthful_qa", "multiple_choice", "validation"),
    "gsm8k": ("openai/gsm8k", "main", "test"),
    "math": ("EleutherAI/hendrycks_math", "algebra", "test"),
    "humaneval": ("openai/openai_humaneval", None, "test"),
    "mbpp": ("google-research-datasets/mbpp", "full", "test"),
}


@dataclass
class BenchmarkData:
    rows: list[dict[str, Any]]
    source: dict[str, Any] = field(default_factory=dict)  # kind, location, rows_total, rows_used, note

    def metadata(self) -> dict[str, Any]:
        return {"data": self.source}


def fixture_path(fmt: str) -> Path:
    return FIXTURES / f"{fmt}.jsonl"


def load_benchmark(fmt: str, location: str | None = None, *, limit: int = 0) -> BenchmarkData:
    """Rows of ``fmt`` (a suite name of ``schemas.CHECKERS``), all checked, the first ``limit`` kept (0: all)."""
    location = (location or "").strip()
    if not location:
        path = fixture_path(fmt)
        rows, lines = read_file(path)
        source = {
            "kind": "fixture",
            "location": str(path.relative_to(FIXTURES.parent.parent.parent)),
            "note": "built-in fixture of invented items in the original schema, not the real benchmark; "
            f"set benchmark_data.{fmt} to a file or a Hugging Face dataset name for real numbers",
        }
        label = f"fixture {path.name}"
    elif _looks_like_path(location):
        path = Path(location).expanduser()
        if not path.exists():
            raise BenchmarkDataError(f"{fmt} data: no file or folder at {location}")
        if path.is_dir():
            rows, lines = _load_hub_or_folder(fmt, str(path), None, _default_split(fmt)), None
            source = {"kind": "folder", "location": str(path)}
        else:
            rows, lines = read_file(path)
            source = {"kind": "file", "location": str(path)}
        label = str(path)
    else:
        name, config, split = parse_hub_name(fmt, location)
        rows, lines = _load_hub_or_folder(fmt, name, config, split), None
        source = {"kind": "huggingface", "location": name, "config": config, "split": split}
        label = f"{name}" + (f":{config}" if config else "") + f"@{split}"
    checked = check_rows(fmt, rows, source=label, lines=lines)
    used = checked[:limit] if limit else checked
    source.update(rows_total=len(checked), rows_used=len(used))
    return BenchmarkData(used, source)


def _looks_like_path(location: str) -> bool:
    return (
        location.startswith(("/", "./", "../", "~"))
        or location.lower().endswith(FILE_SUFFIXES)
        or Path(location).expanduser().exists()
    )


def _default_split(fmt: str) -> str:
    return HUB_DEFAULTS.get(fmt, ("", None, "test"))[2]


def parse_hub_name(fmt: str, location: str) -> tuple[str, str | None, str]:
    """``name[:config][@split]``; the suite's usual config and split when the name is the usual dataset's."""
    rest, _, split = location.partition("@")
    name, _, config = rest.partition(":")
    default_name, default_config, default_split = HUB_DEFAULTS.get(fmt, (None, None, "test"))
    if not config and name == default_name:
        config = default_config or ""
    return name, config or None, split or default_split


def read_file(path: Path) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Rows of a JSONL (with their line numbers), a JSON array, or a parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist(), None
        except Exception as exc:  # pyarrow raises several types for a file that is not parquet
            raise BenchmarkDataError(f"{path} is not a readable parquet file: {exc}") from None
    text = path.read_text(encoding="utf-8")
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BenchmarkDataError(f"{path} is not valid JSON: {exc}") from None
        return data, None
    rows, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BenchmarkDataError(f"{path}, row {len(rows)} (line {number}): not valid JSON ({exc})") from None
        lines.append(number)
    return rows, lines


def _load_hub_or_folder(fmt: str, name: str, config: str | None, split: str) -> list[dict[str, Any]]:
    try:
        from datasets import load_dataset
    except ImportError:
        raise BenchmarkDataError(
            f"loading {name!r} needs the 'datasets' package (pip install -e .[train]); or use a local file"
        ) from None
    try:
        dataset = load_dataset(name, config, split=split)
    except Exception as exc:
        raise BenchmarkDataError(
            f"{fmt} data: could not load {name!r} (config {config!r}, split {split!r}): {type(exc).__name__}: {exc}. "
            f"Without network, point benchmark_data.{fmt} at a local JSONL/parquet file in the same schema."
        ) from None
    return [dict(row) for row in dataset]
