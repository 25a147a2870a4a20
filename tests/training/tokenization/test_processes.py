"""The worker pool: results in order, errors carried back, dead workers detected, waits that can be abandoned."""

import os
import time

import pytest

from training.tokenization.processes import WorkerDied, WorkerPool


def square(x):
    return x * x, os.getpid()


def fail(message):
    raise ValueError(message)


def die(code):
    os._exit(code)


def never():
    return None


def test_map_returns_results_in_order_from_several_processes():
    with WorkerPool(2) as pool:
        results = list(pool.map(square, range(8), never))
    assert [r for r, _ in results] == [x * x for x in range(8)]
    assert all(pid != os.getpid() for _, pid in results)


def test_task_exception_is_reraised_with_the_worker_traceback():
    with pytest.raises(ValueError, match="bad shard") as caught, WorkerPool(1) as pool:
        pool.call(fail, "bad shard", never)
    assert any("raised in a worker process" in note for note in caught.value.__notes__)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(WorkerDied, match="exited with code 7"), WorkerPool(1) as pool:
        pool.call(die, 7, never)


def test_raising_on_wait_abandons_a_long_task_within_seconds():
    class Stop(Exception):
        pass

    started = time.monotonic()

    def stop_after_half_a_second():
        if time.monotonic() - started > 0.5:
            raise Stop

    with pytest.raises(Stop), WorkerPool(1) as pool:
        pool.call(time.sleep, 60, stop_after_half_a_second, interval=0.1)
    assert time.monotonic() - started < 10
    assert all(w.proc.poll() is not None for w in pool.workers)


def test_a_worker_that_cannot_start_is_an_error():
    with pytest.raises(WorkerDied, match="exited with code 1"), WorkerPool(1, preload=("no_such_module_here",)) as pool:
        pool.call(square, 2, never)
