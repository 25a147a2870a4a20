"""Where shard work runs: a pool of worker processes, or the calling process when one worker is asked for.

``ordered_map`` takes an iterable of argument tuples. Results always come back in submission order and at most
``window`` tasks are in flight, so a corpus larger than memory streams through (``Pool.imap`` would read the whole
input ahead) and the output never depends on which worker finished first. Workers are spawned, not forked: the
parent may be a Celery worker with threads and open database connections, which a fork would copy mid-flight.
"""

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


class _Done:
    def __init__(self, value: Any):
        self.value = value

    def result(self) -> Any:
        return self.value


class InlineExecutor:
    """The same interface, run in this process: for one worker, tests and debugging."""

    workers = 1

    def __init__(self, initializer: Callable, initargs: tuple):
        initializer(*initargs)

    def submit(self, fn: Callable, *args: Any) -> _Done:
        return _Done(fn(*args))

    def ordered_map(self, fn: Callable, items: Iterable, *, window: int = 0, with_items: bool = False) -> Iterator:
        for args in items:
            result = fn(*args)
            yield (args, result) if with_items else result

    def shutdown(self, *, kill: bool = False) -> None:
        pass


def _exit_with_parent() -> None:
    """A worker whose parent was killed (SIGKILL, OOM) would otherwise wait for work forever: end it too."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _init_worker(initializer: Callable, initargs: tuple) -> None:
    _exit_with_parent()
    initializer(*initargs)


class PoolExecutor:
    def __init__(self, workers: int, initializer: Callable, initargs: tuple):
        self.workers = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(initializer, initargs),
        )

    def submit(self, fn: Callable, *args: Any):
        return self.pool.submit(fn, *args)

    def ordered_map(self, fn: Callable, items: Iterable, *, window: int = 0, with_items: bool = False) -> Iterator:
        window = window or 2 * self.workers
        pending: deque = deque()
        for args in items:
            pending.append((args, self.pool.submit(fn, *args)))
            if len(pending) >= window:
                done_item, future = pending.popleft()
                yield (done_item, future.result()) if with_items else future.result()
        while pending:
            done_item, future = pending.popleft()
            yield (done_item, future.result()) if with_items else future.result()

    def shutdown(self, *, kill: bool = False) -> None:
        """Stop the pool; ``kill`` ends running tasks at once (cancel, errors) instead of letting them finish."""
        processes = list(getattr(self.pool, "_processes", {}).values()) if kill else []
        self.pool.shutdown(wait=not kill, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=5)


def make_executor(workers: int, initializer: Callable, initargs: tuple) -> InlineExecutor | PoolExecutor:
    count = workers or os.cpu_count() or 1
    if count <= 1:
        return InlineExecutor(initializer, initargs)
    return PoolExecutor(count, initializer, initargs)
