"""Worker processes for tokenizer training and shard encoding, which the runner waits on while it stays responsive.

Why plain subprocesses (``python -m training.tokenization.worker``) and not multiprocessing: a Celery prefork
worker runs jobs in daemonic processes, from which the standard library refuses to start children; spawn-based
pools re-import the parent's ``__main__`` (fatal for an unguarded script) and silently respawn workers that die,
so a crashed child would hang the job. Here a worker that dies is an error naming its exit code, and nothing of the
parent (its threads, locks, Django) leaks into the children.

Why waiting in slices: the runner calls ``on_wait`` (the cancel check) every ``interval`` seconds while children
work, so cancelling stops a long shard or a long training within seconds; the children are then killed.

Messages are length-prefixed pickles over the children's stdin and a private copy of their stdout (their real
stdout goes to stderr, so a library that prints cannot corrupt the stream).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

HEADER = struct.Struct("!Q")


class WorkerDied(RuntimeError):
    """A worker process exited while it held a task (killed, out of memory, crashed at start)."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def write_frame(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    """The next message, or None at end of stream."""
    header = _read_exact(fd, HEADER.size)
    if header is None:
        return None
    data = _read_exact(fd, HEADER.unpack(header)[0])
    return None if data is None else pickle.loads(data)


def _target(fn: Callable[[Any], Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


class _Worker:
    def __init__(self, env: dict[str, str], preload: tuple[str, ...]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "training.tokenization.worker", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self.fd = self.proc.stdout.fileno()
        self.task: int | None = None

    def send(self, task_id: int, target: str, arg: Any) -> None:
        self.task = task_id
        try:
            write_frame(self.proc.stdin, (task_id, target, arg))
        except BrokenPipeError:
            raise WorkerDied(f"worker process {self.proc.pid} exited with code {self.proc.wait()}") from None


class WorkerPool:
    def __init__(self, processes: int, *, threads_per_process: int = 1, preload: tuple[str, ...] = ()):
        """``preload``: modules the workers import as soon as they start, so a pool started early has its
        imports done by the time work arrives."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        # Rayon (inside tokenizers) sizes its thread pool once, from these, on first use
        env["RAYON_NUM_THREADS"] = str(max(1, threads_per_process))
        env["TOKENIZERS_PARALLELISM"] = "true" if threads_per_process > 1 else "false"
        self.workers = [_Worker(env, preload) for _ in range(max(1, processes))]
        self.processes = len(self.workers)
        self._selector = selectors.DefaultSelector()
        for worker in self.workers:
            self._selector.register(worker.fd, selectors.EVENT_READ, worker)

    def call(self, fn: Callable[[Any], Any], arg: Any, on_wait: Callable[[], None], interval: float = 0.5) -> Any:
        return next(self.map(fn, [arg], on_wait, interval))

    def map(
        self, fn: Callable[[Any], Any], args: Iterable[Any], on_wait: Callable[[], None], interval: float = 0.5
    ) -> Iterator[Any]:
        """Results in the order of ``args``; a task's exception is re-raised here (with the worker's traceback as a
        note); ``on_wait`` runs between waits and may raise to abandon the work (then kill the pool)."""
        target = _target(fn)
        queue = deque(enumerate(args))
        total = len(queue)
        results: dict[int, Any] = {}
        following = 0
        while following < total:
            for worker in self.workers:
                if worker.task is None and queue:
                    task_id, arg = queue.popleft()
                    worker.send(task_id, target, arg)
            if following in results:
                yield results.pop(following)
                following += 1
                continue
            on_wait()
            for key, _ in self._selector.select(timeout=interval):
                worker: _Worker = key.data
                message = read_frame(worker.fd)
                if message is None:
                    code = worker.proc.wait()
                    raise WorkerDied(f"worker process {worker.proc.pid} exited with code {code} (its stderr says why)")
                task_id, status, payload = message
                worker.task = None
                if status == "error":
                    raise _rebuild(*payload)
                results[task_id] = payload

    def close(self) -> None:
        if any(worker.task is not None for worker in self.workers):
            self.terminate()  # work nobody will collect: a worker blocked writing its reply would never exit
            return
        for worker in self.workers:
            if worker.proc.stdin and not worker.proc.stdin.closed:
                worker.proc.stdin.close()
        for worker in self.workers:
            worker.proc.wait()
            worker.proc.stdout.close()
        self._selector.close()

    def terminate(self) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
        for worker in self.workers:
            worker.proc.wait()
            for stream in (worker.proc.stdin, worker.proc.stdout):
                with contextlib.suppress(OSError):  # the child is gone: nothing left to flush
                    stream.close()
        self._selector.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()


def _rebuild(exception: BaseException | None, name: str, message: str, traceback_text: str) -> BaseException:
    if exception is None:
        exception = RuntimeError(f"{name}: {message}")
    exception.add_note("raised in a worker process:\n" + traceback_text)
    return exception
