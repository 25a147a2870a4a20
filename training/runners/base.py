"""The runner contract: ``run(config, ctx) -> RunResult``, the same from Celery and from the CLI.

``ctx`` is all a runner knows of the outside world: its folder, progress/metric/log sinks, checkpoints, artifact
registration and the cancel check. Runners never import Django models; the job service supplies a context that
writes to the database, the CLI one that prints with tqdm.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class JobCancelled(Exception):
    """Raised by ``ctx.check_cancelled()`` at a safe point; the job ends as cancelled with its checkpoints kept."""


@dataclass
class ArtifactSpec:
    """An output the runner produced: registered with size and sha256 by the context."""

    kind: str  # dataset, tokenizer, token_shards, model, adapter, report
    path: Path
    name: str = ""
    parents: list[str] = field(default_factory=list)  # artifact references (ids or paths) this one derives from
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    summary: dict[str, Any] = field(default_factory=dict)
    artifacts: list[ArtifactSpec] = field(default_factory=list)


class RunContext(Protocol):
    folder: Path  # the job's own folder under ARTIFACTS_ROOT (everything the runner writes goes here)
    attempt: int  # 1 on the first run, >1 when resumed after a crash or a retry

    def progress(self, step: int, total: int | None = None, message: str = "") -> None: ...

    def metric(self, step: int, name: str, value: float) -> None: ...

    def metrics(self, step: int, values: dict[str, float]) -> None: ...

    def log(self, line: str) -> None: ...

    def report(self, key: str, value: Any) -> None:
        """Structured data for the job page (funnel, samples, comparison tables), stored in the job's result."""

    def check_cancelled(self) -> None:
        """Raise JobCancelled if cancellation was requested. Call it between units of work."""

    def resolve_input(self, reference: str | int, kind: str | None = None) -> Path:
        """An input artifact's folder: by id, by path, or "latest" of a kind."""


class CheckpointStore:
    """Checkpoints as folders ``checkpoints/step-<n>``; a checkpoint counts only once its ``COMPLETE`` marker exists,
    so a crash mid-write never leaves a half checkpoint that resume would trust."""

    def __init__(self, folder: Path, keep: int = 3):
        self.root = folder / "checkpoints"
        self.keep = keep

    def complete(self) -> list[tuple[int, Path]]:
        if not self.root.exists():
            return []
        out = []
        for path in self.root.iterdir():
            if path.name.startswith("step-") and (path / "COMPLETE").exists():
                out.append((int(path.name.removeprefix("step-")), path))
        return sorted(out)

    def latest(self) -> tuple[int, Path] | None:
        done = self.complete()
        return done[-1] if done else None

    @contextmanager
    def write(self, step: int, protect: set[int] | None = None) -> Iterator[Path]:
        """Yield a temp folder to fill; on success it is renamed into place and marked complete atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".step-{step}-", dir=self.root))
        try:
            yield tmp
            (tmp / "COMPLETE").write_text(json.dumps({"step": step}))
            final = self.root / f"step-{step}"
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune(protect or set())

    def _prune(self, protect: set[int]) -> None:
        done = self.complete()
        for step, path in done[: max(0, len(done) - self.keep)]:
            if step not in protect:
                shutil.rmtree(path, ignore_errors=True)
