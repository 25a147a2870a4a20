"""Start a real Celery worker process that shares the test database and broker with the test process."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings.test",
        DATABASE_URL=database_url(),
        ARTIFACTS_ROOT=str(settings.ARTIFACTS_ROOT),
        PYTHONUNBUFFERED="1",
    )
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        env["PLUMBLINE_BROKER_DIR"] = str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)
    env.update(extra)
    return env


class WorkerHandle:
    def __init__(self, proc: subprocess.Popen, queue: str, log_path: Path):
        self.proc, self.queue, self.log_path = proc, queue, log_path

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as if the host died."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def purge_queue(queue: str) -> None:
    from webapp.celery import app

    with app.connection_for_write() as conn, contextlib.suppress(Exception):  # the queue may not exist yet
        conn.default_channel.queue_purge(queue)


@contextmanager
def celery_worker(log_path: Path, queue: str | None = None, **env: str) -> Iterator[WorkerHandle]:
    """Yield a handle on a fresh worker; a unique queue (the default) keeps stray messages of other runs away."""
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webapp",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=worker_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle = WorkerHandle(proc, queue, log_path)
    try:
        deadline = time.monotonic() + 60
        while b"ready" not in log_path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield handle
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
