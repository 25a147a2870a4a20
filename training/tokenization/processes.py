"""Worker processes for tokenizer training and shard encoding, which the runner waits on while it stays responsive.

Why billiard and spawn: a Celery prefork worker runs jobs in daemonic processes, and the standard library refuses
to start children from those ("daemonic processes are not allowed to have children"); billiard, Celery's own fork
of multiprocessing, allows it. Spawned (not forked) children start clean, so the job context's heartbeat thread
and any lock it holds never leak into them.

Why waiting in slices: the runner's process calls ``on_wait`` (cancel check, progress heartbeat) every
``interval`` seconds while a child works, so cancelling stops a long shard or a long training within seconds: the
pool is terminated and the children with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    # Before tokenizers is imported: Rayon sizes its thread pool once, on first use.
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"


class WorkerPool:
    def __init__(self, processes: int, *, threads_per_process: int = 1):
        import billiard

        self.processes = processes
        self._pool = billiard.get_context("spawn").Pool(
            processes, initializer=_init_worker, initargs=(max(1, threads_per_process),)
        )

    def submit(self, fn: Callable[[Any], Any], arg: Any):
        return self._pool.apply_async(fn, (arg,))

    @staticmethod
    def wait(result, on_wait: Callable[[], None], interval: float = 0.5) -> Any:
        """The task's return value (its exception re-raised here); ``on_wait`` runs between slices."""
        while not result.ready():
            on_wait()
            result.wait(interval)
        return result.get()

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
