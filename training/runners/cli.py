"""Run any runner from the command line: ``python -m training.runners.<kind> --config cfg.yaml --output DIR``.

The local context prints progress with tqdm, appends metrics to ``metrics.jsonl`` and logs to ``run.log`` in the
output folder, so a run outside Celery leaves the same files a job would.
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..configs import ConfigError, from_dict, to_dict
from .base import JobCancelled, RunResult


class LocalContext:
    """A RunContext for the CLI and for tests: files only, no database."""

    def __init__(self, folder: Path, *, attempt: int = 1, show_progress: bool = True, inputs: dict | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.attempt = attempt
        self.reports: dict[str, Any] = {}
        self.metric_points: list[tuple[int, str, float]] = []
        self.cancel_event = threading.Event()
        self.inputs = inputs or {}
        self._bar: tqdm | None = None
        self._show = show_progress
        self._log = (self.folder / "run.log").open("a", encoding="utf-8")

    def progress(self, step: int, total: int | None = None, message: str = "") -> None:
        if not self._show:
            return
        if self._bar is None:
            self._bar = tqdm(total=total, unit="step", dynamic_ncols=True)
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = step
        if message:
            self._bar.set_description(message[:40])
        self._bar.refresh()

    def metric(self, step: int, name: str, value: float) -> None:
        self.metrics(step, {name: value})

    def metrics(self, step: int, values: dict[str, float]) -> None:
        with (self.folder / "metrics.jsonl").open("a", encoding="utf-8") as fh:
            for name, value in values.items():
                self.metric_points.append((step, name, float(value)))
                fh.write(json.dumps({"step": step, "name": name, "value": float(value), "time": time.time()}) + "\n")

    def log(self, line: str) -> None:
        self._log.write(line.rstrip("\n") + "\n")
        self._log.flush()
        if self._show:
            tqdm.write(line)

    def report(self, key: str, value: Any) -> None:
        self.reports[key] = value

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()

    def resolve_input(self, reference: str | int, kind: str | None = None) -> Path:
        if str(reference) in self.inputs:
            return Path(self.inputs[str(reference)])
        path = Path(str(reference))
        if path.exists():
            return path
        raise FileNotFoundError(
            f"input {reference!r} is not a folder here; outside a job pass a path (jobs also accept artifact ids)"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._log.close()


def load_config_file(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(text) or {}
    return json.loads(text) if text.strip() else {}


def main(config_class: type, run, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(config_class.__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--config", help="YAML or JSON file with the config (omitted fields take defaults)")
    parser.add_argument("--output", required=True, help="folder for the run's files (created if missing)")
    args = parser.parse_args(argv)
    try:
        config = from_dict(config_class, load_config_file(args.config) if args.config else {})
    except ConfigError as exc:
        print(f"invalid config: {exc}", file=sys.stderr)
        return 2
    ctx = LocalContext(Path(args.output))
    (ctx.folder / "config.json").write_text(json.dumps(to_dict(config), indent=2))
    try:
        result: RunResult = run(config, ctx)
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        return 130
    finally:
        ctx.close()
    print(json.dumps({"summary": result.summary, "artifacts": [str(a.path) for a in result.artifacts]}, indent=2))
    return 0
