"""Launching a job's runner under torchrun from a Celery worker: several processes on one host (DDP/FSDP), or one
node of a multi-host job that rendezvouses with the others through torchrun's c10d backend."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from .models import Job
from .runners.base import ArtifactSpec, JobCancelled, RunResult

ROOT = Path(__file__).resolve().parent.parent


class DistributedRunError(RuntimeError):
    """torchrun on this node ended badly (a rank failed, or a peer host vanished)."""


def node_address() -> str:
    """The address other hosts reach this one at (PLUMBLINE_NODE_ADDRESS, else the resolved hostname)."""
    configured = os.environ.get("PLUMBLINE_NODE_ADDRESS")
    if configured:
        return configured
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def torchrun_command(job: Job, endpoint: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={job.processes_per_host}"]
    if job.hosts == 1:
        cmd.append("--standalone")
    else:
        cmd += [
            f"--nnodes={job.hosts}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={endpoint}",
            f"--rdzv-id=plumbline-job-{job.pk}-attempt-{job.attempt}",
            "--max-restarts=0",
        ]
    return [*cmd, "-m", "training.rank_entry", "--job-id", str(job.pk)]


def run_node(job: Job, ctx, node_index: int) -> RunResult | None:
    """Run this host's share of the job; node 0 returns the job's result, other nodes None."""
    for stale in [job.folder / "result.json", *job.folder.glob("rank-*-error.json")]:
        if node_index == 0:
            stale.unlink(missing_ok=True)
    endpoint = job.rendezvous.get("endpoint")
    log_path = job.folder / f"torchrun-node{node_index}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PLUMBLINE_JOB_NODE": str(node_index)}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            torchrun_command(job, endpoint),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        cancel_seen = None
        while proc.poll() is None:
            time.sleep(0.5)
            if ctx.cancel_requested and cancel_seen is None:
                cancel_seen = time.monotonic()  # rank 0 stops all ranks at the next step; give it time
            if cancel_seen and time.monotonic() - cancel_seen > settings.JOB_CANCEL_GRACE_SECONDS:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
                raise JobCancelled()
    if proc.returncode != 0:
        raise DistributedRunError(_failure_message(job, proc.returncode, log_path))
    if node_index != 0:
        return None
    result_path = job.folder / "result.json"
    deadline = time.monotonic() + 120  # global rank 0 may live on another host and finish a moment later
    while not result_path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the distributed run ended without rank 0 writing result.json")
        time.sleep(0.5)
    result = json.loads(result_path.read_text())
    if result["status"] == "cancelled":
        raise JobCancelled()
    return RunResult(
        summary=result["summary"],
        artifacts=[
            ArtifactSpec(a["kind"], Path(a["path"]), a["name"], a["parents"], a["metadata"])
            for a in result["artifacts"]
        ],
    )


def _failure_message(job: Job, returncode: int, log_path: Path) -> str:
    errors = sorted(job.folder.glob("rank-*-error.json"))
    if errors:
        first = json.loads(errors[0].read_text())
        return f"rank {first['rank']} failed: {first['error']}"
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    return f"torchrun exited with status {returncode}. Last output:\n{tail}"
