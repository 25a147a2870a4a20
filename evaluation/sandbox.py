"""Running generated code (HumanEval/MBPP pass@k) so that what it does stays inside a disposable box.

Layers, each a backstop for the others (generated code is mostly wrong rather than malicious; this contains accidents
and naive escapes, it is not a security boundary against a determined attacker — run workers in containers too):

- a separate process (``sys.executable -I``: no user site, no environment, no script dir on the path) in its own
  session, so a timeout kills the whole process group;
- a fresh temporary directory as cwd and HOME, removed afterwards; stdout/stderr go to files there (a program that
  prints forever fills its file up to the file-size limit instead of the worker's memory);
- ``resource.setrlimit`` in ``preexec_fn``: CPU time, address space, file size, process count, no core dumps;
- a network namespace of its own (``unshare(CLONE_NEWNET)``: not even loopback) where the kernel allows it;
- fewer privileges: as root, the child becomes ``nobody`` when ``nobody`` can run this interpreter, otherwise it
  drops every capability (so it cannot raise its hard limits back, leave the namespace or kill others' processes);
- a prelude run before the program that disables process creation (fork/exec/subprocess/spawn), sockets, ``ctypes``,
  raising rlimits, and writing, removing or renaming anything outside the temporary directory. ``RLIMIT_NPROC``
  does not bind root, so for root the prelude is what stops a fork bomb.

A result is ``passed`` (exit status 0), ``failed`` (an ``AssertionError``: the tests ran and did not pass),
``timeout`` (CPU-time or wall-clock limit) or ``error`` (any other exception, a blocked operation, a crash), with a
one-line reason. Only ``passed`` counts towards pass@k.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox_prelude import PRELUDE

PASSED, FAILED, TIMEOUT, ERROR = "passed", "failed", "timeout", "error"
BLOCKED_MARK = "blocked by the sandbox"
OUTPUT_TAIL = 4000

CLONE_NEWNET = 0x40000000
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 10.0
    wall_seconds: float | None = None  # default: twice the CPU limit plus 2 s (sleeping code uses no CPU)
    memory_mb: int = 512
    file_size_mb: int = 16
    processes: int = 64  # binds only a non-root child (see the module docstring)

    @property
    def wall(self) -> float:
        return self.wall_seconds if self.wall_seconds is not None else 2 * self.cpu_seconds + 2


@dataclass
class SandboxResult:
    status: str
    reason: str = ""
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    pid: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass(frozen=True)
class Isolation:
    """The kernel-level layers this machine allows (probed once per process, see ``isolation``)."""

    network_namespace: bool = False
    drop_to: tuple[int, int] | None = None  # (uid, gid) of nobody
    drop_capabilities: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> dict:
        privileges = "nobody" if self.drop_to else ("no capabilities" if self.drop_capabilities else "unchanged")
        return {
            "network_namespace": self.network_namespace,
            "privileges": privileges,
            "rlimits": ["cpu", "address_space", "file_size", "processes", "core"],
            "prelude": ["fork/exec/subprocess", "sockets", "ctypes", "rlimit changes", "writes outside the temp dir"],
            "notes": list(self.notes),
        }


# --- the parent side -------------------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _last_capability() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


_LAST_CAP = _last_capability()


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _drop_capabilities() -> None:
    """Empty the bounding set first (else exec as root would grant every capability again), then capset to zero."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    for cap in range(_LAST_CAP + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "capbset_drop")
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _preexec(limits: SandboxLimits, isolation: Isolation) -> Callable[[], None]:
    """Runs in the child between fork and exec; everything it calls is resolved in the parent beforehand."""
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    memory = limits.memory_mb * 1024 * 1024
    fsize = limits.file_size_mb * 1024 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL one second on
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if isolation.network_namespace:
            _check(_libc.unshare(CLONE_NEWNET), "unshare")
        if isolation.drop_to:
            uid, gid = isolation.drop_to
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        elif isolation.drop_capabilities:
            _drop_capabilities()

    return apply


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - OUTPUT_TAIL))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:500] if lines else ""


def _classify(rc: int, stderr: str, cpu_limit: float, cpu_used: float) -> tuple[str, str]:
    if rc == 0:
        return PASSED, ""
    last = _last_line(stderr)
    if rc < 0:
        sig = signal.Signals(-rc) if -rc in signal.Signals._value2member_map_ else -rc
        # SIGXCPU comes only from the CPU-time limit (the prelude blocks kill); SIGKILL also from the hard limit
        # (one second on) — or from the kernel's OOM killer, told apart by the CPU time used.
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_used >= cpu_limit * 0.9):
            return TIMEOUT, f"CPU-time limit of {cpu_limit:g}s reached"
        name = sig.name if isinstance(sig, signal.Signals) else f"signal {sig}"
        return ERROR, f"killed by {name}" + (f" ({last})" if last else "")
    if last.startswith("AssertionError"):
        return FAILED, last
    if "MemoryError" in last:
        return ERROR, f"{last} (memory limit)"
    return ERROR, last or f"exit status {rc}"


def _remove(path: Path) -> None:
    def force(func, p, _exc):
        with contextlib.suppress(OSError):
            os.chmod(p, 0o700)
            func(p)

    shutil.rmtree(path, onerror=force)


def _wait(proc: subprocess.Popen, deadline: float) -> tuple[int, float, bool]:
    """Exit code, the child's own CPU seconds (wait4, not RUSAGE_CHILDREN: other boxes run beside it), timed out?

    Whatever happens, the child's whole process group is killed before this returns.
    """
    pause, timed_out = 0.002, False
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:  # exited, not yet reaped
        if time.monotonic() >= deadline:
            timed_out = True
            break
        time.sleep(pause)
        pause = min(0.05, pause * 1.5)
    # The leader is not reaped yet, so its pid (the group id) cannot have been reused: killing the group is safe.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # reaped here; keeps Popen from waiting on a pid that is gone
    return rc, usage.ru_utime + usage.ru_stime, timed_out


def run_program(
    code: str, *, limits: SandboxLimits | None = None, isolation: Isolation | None = None, prelude: bool = True
) -> SandboxResult:
    """Run one program in a fresh box; never raises for anything the program does."""
    limits = limits or SandboxLimits()
    isolation = isolation if isolation is not None else probe_isolation()
    box = Path(tempfile.mkdtemp(prefix="plumbline-sandbox-"))
    try:
        program = box / "program.py"
        program.write_text(code, encoding="utf-8")
        if isolation.drop_to:
            uid, gid = isolation.drop_to
            os.chown(box, uid, gid)
            os.chown(program, uid, gid)
        args = [sys.executable, "-I", "-c", PRELUDE, str(program)] if prelude else [sys.executable, "-I", str(program)]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(box), "LANG": "C.UTF-8", "TMPDIR": str(box)}
        started = time.monotonic()
        with (box / "stdout.txt").open("wb") as out, (box / "stderr.txt").open("wb") as err:
            if isolation.drop_to:
                for f in (out, err):
                    os.fchown(f.fileno(), *isolation.drop_to)
            try:
                proc = subprocess.Popen(
                    args,
                    cwd=box,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    preexec_fn=_preexec(limits, isolation),  # setrlimit, unshare, setuid: no locks
                    close_fds=True,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                return SandboxResult(ERROR, f"the sandbox could not start the program: {exc}")
        rc, cpu_used, timed_out = _wait(proc, started + limits.wall)
        seconds = time.monotonic() - started
        stdout, stderr = _tail(box / "stdout.txt"), _tail(box / "stderr.txt")
        if timed_out:
            status, reason = TIMEOUT, f"wall-clock limit of {limits.wall:g}s reached (killed)"
        else:
            status, reason = _classify(rc, stderr, limits.cpu_seconds, cpu_used)
        return SandboxResult(status, reason, stdout, stderr, round(seconds, 3), rc, proc.pid)
    finally:
        _remove(box)


def run_programs(
    programs: Sequence[str], *, limits: SandboxLimits | None = None, workers: int | None = None
) -> list[SandboxResult]:
    """Many programs, a few at a time (each waits mostly on its own process), results in input order."""
    if not programs:
        return []
    isolation = probe_isolation()
    workers = workers or max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda code: run_program(code, limits=limits, isolation=isolation), programs))


def _nobody_ids() -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


@functools.cache
def probe_isolation() -> Isolation:
    """The strongest combination of kernel layers under which a trivial program still runs here."""
    probe_limits = SandboxLimits(cpu_seconds=10, wall_seconds=30)
    notes = []
    root = os.geteuid() == 0
    nobody = _nobody_ids() if root else None
    candidates = []
    for net in (True, False):
        if nobody:
            candidates.append(Isolation(network_namespace=net, drop_to=nobody))
        if root:
            candidates.append(Isolation(network_namespace=net, drop_capabilities=True))
        candidates.append(Isolation(network_namespace=net))
    for candidate in candidates:
        result = run_program("print('ok')", limits=probe_limits, isolation=candidate)
        if result.passed and result.stdout.strip() == "ok":
            if root and nobody and not candidate.drop_to:
                notes.append("'nobody' cannot run this interpreter (its path is not world-readable): kept uid 0")
            if not candidate.network_namespace:
                notes.append("no network namespace allowed here: the prelude's socket stub is the only network block")
            if not root:
                notes.append("running as a regular user: RLIMIT_NPROC applies to the user's processes")
            return Isolation(candidate.network_namespace, candidate.drop_to, candidate.drop_capabilities, tuple(notes))
    return Isolation(notes=("no kernel-level isolation works here; relying on rlimits and the prelude",))
