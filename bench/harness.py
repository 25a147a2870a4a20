"""What both benchmarks share: throwaway databases, Django stages in subprocesses, gunicorn, CPU and machine facts.

Every Django step runs in its own subprocess because Django reads its settings (and so its database) once per
process; the orchestrating process never imports Django, so one run can measure SQLite and PostgreSQL side by side.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS_DIR = REPO / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ensure_repo_on_path() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


# --- throwaway databases -------------------------------------------------------------------------------------------


@dataclass
class Backend:
    """One database to benchmark against, with the environment every process of the run gets."""

    name: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    pg_database: str | None = None


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _base_env(workdir: Path, throttle: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PLUMBLINE_VAR_DIR")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings.local",
        DJANGO_DEBUG="0",  # DEBUG keeps every query in memory and adds per-query overhead
        PLUMBLINE_VAR_DIR=str(workdir / "var"),
        ARTIFACTS_ROOT=str(workdir / "artifacts"),
        API_THROTTLE_USER=throttle,  # throttling stays on (its cost is measured) but never trips
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    return env


@contextlib.contextmanager
def throwaway_backend(name: str, *, redis_url: str | None = None, throttle: str = "1000000/min") -> Iterator[Backend]:
    """A fresh SQLite file in a temp dir, or a fresh PostgreSQL database dropped afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"plumbline-bench-{name}-"))
    env = _base_env(workdir, throttle)
    backend = Backend(name=name, workdir=workdir, env=env)
    try:
        if name == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        elif name == "postgres":
            backend.pg_database = f"plumbline_bench_{os.getpid()}"
            _pg_admin(f'DROP DATABASE IF EXISTS "{backend.pg_database}" WITH (FORCE)')
            _pg_admin(f'CREATE DATABASE "{backend.pg_database}"')
            base = PG_ADMIN_URL.rsplit("/", 1)[0]
            env["DATABASE_URL"] = f"{base}/{backend.pg_database}"
        else:
            raise ValueError(f"unknown backend {name!r}")
        if redis_url:
            env["REDIS_URL"] = redis_url
        yield backend
    finally:
        if backend.pg_database:
            with contextlib.suppress(Exception):
                _pg_admin(f'DROP DATABASE IF EXISTS "{backend.pg_database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


def run_stage(script: Path, stage: str, backend: Backend, payload: dict) -> dict:
    """Run ``script --stage STAGE`` with the backend's environment; the stage reads and writes JSON files."""
    stage_in = backend.workdir / f"{stage}.in.json"
    stage_out = backend.workdir / f"{stage}.out.json"
    stage_in.write_text(json.dumps(payload))
    cmd = [PYTHON, str(script), "--stage", stage, "--stage-in", str(stage_in), "--stage-out", str(stage_out)]
    subprocess.run(cmd, env=backend.env, cwd=REPO, check=True)
    return json.loads(stage_out.read_text())


def stage_main(stages: dict, description: str | None = None) -> None:
    """The other end of ``run_stage``: ``--stage NAME --stage-in IN.json --stage-out OUT.json`` runs one stage."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", choices=sorted(stages), required=True)
    parser.add_argument("--stage-in", type=Path, required=True)
    parser.add_argument("--stage-out", type=Path, required=True)
    args = parser.parse_args()
    args.stage_out.write_text(json.dumps(stages[args.stage](json.loads(args.stage_in.read_text()))))


def django_setup() -> None:
    """Called at the top of a stage subprocess (never in the orchestrator)."""
    ensure_repo_on_path()
    import warnings

    import django

    # whitenoise warns once per process when collectstatic has not run; the benchmarks serve no static files
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()


# --- gunicorn ------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The master and its workers (read from /proc, so no psutil is needed)."""
        out = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                        out.append(int(entry.name))
        return out


@contextlib.contextmanager
def gunicorn(backend: Backend, *, workers: int, threads: int) -> Iterator[Server]:
    """gunicorn serving webapp.wsgi with the repo's gunicorn.conf.py, on a free port; stopped on exit."""
    port = free_port()
    log = backend.workdir / "gunicorn.log"
    env = {
        **backend.env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
    }
    cmd = [PYTHON, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "webapp.wsgi"]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    server = Server(proc=proc, port=port, log=log)
    try:
        _wait_ready(server, workers)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: Server, workers: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{server.log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as r:
            if r.status == 200 and len(server.pids()) > workers:
                # Touch every worker once so imports and first connections are not measured.
                for _ in range(4 * workers):
                    urllib.request.urlopen(f"{server.url}/healthz", timeout=5).read()
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become ready:\n{server.log.read_text()[-4000:]}")


# --- CPU accounting ------------------------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def processes_named(fragment: str) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    out.append(int(entry.name))
    return out


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving ``database`` (their process title names it)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if title.startswith("postgres:") and f" {database} " in title:
                    out.append(int(entry.name))
    return out


def machine_cpu_seconds() -> float:
    """All CPU time spent on the machine (every process, every core) since boot, idle and iowait excluded."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(max_wait_s: float, *, busy_cores: float = 0.3, sample_s: float = 2.0) -> dict:
    """Wait (at most ``max_wait_s``) until the rest of the machine uses under ``busy_cores`` cores.

    Other agents share this machine; a measurement taken while their test suites run measures them too. Returns
    how long it waited and the last sample, which goes into the results so a noisy run is visibly noisy.
    """
    deadline = time.monotonic() + max_wait_s
    waited = 0.0
    while True:
        before = machine_cpu_seconds()
        time.sleep(sample_s)
        busy = (machine_cpu_seconds() - before) / sample_s
        waited += sample_s
        if busy < busy_cores or time.monotonic() >= deadline:
            return {"waited_s": round(waited, 1), "busy_cores_before_start": round(busy, 2)}


def wakeup_roundtrip_us(rounds: int = 5000) -> float:
    """Microseconds per round trip of one byte between two processes over pipes (median of 3 batches).

    Every request of the load benchmarks is a chain of such steps (client → gunicorn → PostgreSQL and back), and on
    a virtual machine their cost moves with the host: 9-47 µs on the machine of docs/benchmarks.md within an hour,
    while plain Python loops kept their speed. Recorded beside each run so that a slow run shows why.
    """
    samples = []
    for _ in range(3):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        pid = os.fork()
        if pid == 0:  # the echoing child
            try:
                for _ in range(rounds):
                    os.read(r1, 1)
                    os.write(w2, b"x")
            finally:
                os._exit(0)
        start = time.perf_counter()
        for _ in range(rounds):
            os.write(w1, b"x")
            os.read(r2, 1)
        samples.append((time.perf_counter() - start) / rounds * 1e6)
        os.waitpid(pid, 0)
        for fd in (r1, w1, r2, w2):
            os.close(fd)
    return round(sorted(samples)[1], 1)


class CpuMeter:
    """CPU seconds used during a window by named groups of processes and by the whole machine."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups
        self.start = {name: {pid: proc_cpu_seconds(pid) for pid in pids} for name, pids in groups.items()}
        self.machine_start = machine_cpu_seconds()
        self.t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        out = {"wall_s": round(wall, 3), "cores": os.cpu_count()}
        for name, pids in self.groups.items():
            used = sum(max(0.0, proc_cpu_seconds(pid) - self.start[name].get(pid, 0.0)) for pid in pids)
            out[f"{name}_cpu_s"] = round(used, 2)
        out["machine_cpu_s"] = round(machine_cpu_seconds() - self.machine_start, 2)
        ours = sum(v for k, v in out.items() if k.endswith("_cpu_s") and k != "machine_cpu_s")
        # Everything else that ran meanwhile: other agents' tests on this shared machine, the kernel, ...
        out["others_cpu_s"] = round(max(0.0, out["machine_cpu_s"] - ours), 2)
        return out


# --- reporting -----------------------------------------------------------------------------------------------------


def machine_info() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
    with contextlib.suppress(OSError):
        info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    return info


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def write_results(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def table(rows: list[list], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
