"""What each torchrun process runs for a distributed job: ``python -m training.rank_entry --job-id N``.

Global rank 0 reports through a database-backed context (progress, metrics, logs, cancel); the other ranks stay
quiet. Rank 0 writes ``result.json`` into the job folder when the runner ends; any rank that fails writes
``rank-<r>-error.json`` so the worker can say which rank failed and why.
"""

import argparse
import json
import os
import traceback
from pathlib import Path


class QuietRankContext:
    """The context of ranks other than 0: same folder and inputs, no reporting (rank 0 speaks for the job)."""

    def __init__(self, job):
        self.folder = job.folder
        self.attempt = job.attempt

    def progress(self, *args, **kwargs) -> None:
        pass

    def metric(self, *args, **kwargs) -> None:
        pass

    def metrics(self, *args, **kwargs) -> None:
        pass

    def log(self, line: str) -> None:
        pass

    def report(self, key, value) -> None:
        pass

    def check_cancelled(self) -> None:
        pass

    def resolve_input(self, reference, kind=None) -> Path:
        from .services.artifacts import artifact_resolve

        return artifact_resolve(reference, kind).absolute_path


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str))
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job-id", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.local")
    import django

    django.setup()
    from .job_context import JobContext
    from .models import Job
    from .runners import get_kind, validate_config
    from .runners.base import JobCancelled

    job = Job.objects.get(pk=args.job_id)
    rank = int(os.environ.get("RANK", "0"))
    ctx = JobContext(job) if rank == 0 else QuietRankContext(job)
    if rank == 0:
        ctx.start()
    status, summary, artifacts = "succeeded", {}, []
    try:
        result = get_kind(job.kind).load_runner()(validate_config(job.kind, job.config), ctx)
        summary = result.summary
        artifacts = [
            {"kind": a.kind, "path": str(a.path), "name": a.name, "parents": a.parents, "metadata": a.metadata}
            for a in result.artifacts
        ]
    except JobCancelled:
        status = "cancelled"
    except BaseException as exc:
        _write_json(
            job.folder / f"rank-{rank}-error.json",
            {"rank": rank, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()},
        )
        raise
    finally:
        if rank == 0:
            ctx.stop()
    if rank == 0:
        _write_json(job.folder / "result.json", {"status": status, "summary": summary, "artifacts": artifacts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
