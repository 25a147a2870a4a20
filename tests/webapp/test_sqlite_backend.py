"""webapp.sqlite_backend: writers queue on a lock that hands over at once; it is always released."""

import multiprocessing
import threading
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction

from webapp.sqlite_backend.base import WriteLock

pytestmark = pytest.mark.skipif(not settings.DATABASE_IS_SQLITE, reason="the SQLite backend only")


@pytest.fixture
def counter(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS test_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        cursor.execute("DELETE FROM test_counter")
        cursor.execute("INSERT INTO test_counter (id, n) VALUES (1, 0)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE test_counter")


def _read() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM test_counter WHERE id = 1")
        return cursor.fetchone()[0]


def _increment() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT n FROM test_counter WHERE id = 1")
        (n,) = cursor.fetchone()
        time.sleep(0.0005)  # read-modify-write: lost updates would show if writers overlapped
        cursor.execute("UPDATE test_counter SET n = %s WHERE id = 1", [n + 1])


def test_concurrent_writers_in_threads_all_land(counter):
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(40):
                _increment()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _read() == 160


def test_the_lock_is_released_after_a_rollback_and_a_failed_begin(counter):
    lock = connection._lock()
    with pytest.raises(RuntimeError), transaction.atomic():
        _increment()
        assert lock._thread_lock.locked()
        raise RuntimeError("boom")
    assert not lock._thread_lock.locked()
    assert _read() == 0
    _increment()  # the next writer gets it at once
    assert _read() == 1 and not lock._thread_lock.locked()


def test_a_waiting_thread_times_out_with_database_is_locked(counter):
    lock = connection._lock()
    held, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            held.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            lock.acquire(timeout=0.2)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join()
    _increment()


def _hold(path: str, ready, go) -> None:
    lock = WriteLock(path)
    lock.acquire(timeout=5)
    ready.set()
    go.wait(10)
    lock.release()


def test_processes_exclude_each_other(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(path, ready, go))
    other.start()
    try:
        assert ready.wait(30)
        lock = WriteLock(path)
        with pytest.raises(OperationalError):
            lock.acquire(timeout=0.1)
        assert not lock._thread_lock.locked()  # a failed wait leaves nothing held
        go.set()
        started = time.monotonic()
        lock.acquire(timeout=10)  # handed over as soon as the other process lets go
        assert time.monotonic() - started < 5
        lock.release()
    finally:
        go.set()
        other.join(10)
