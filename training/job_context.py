"""The database-backed RunContext a worker gives a runner.

The runner's calls (progress, metrics, logs, reports) only touch memory and the job's log file; a heartbeat thread
flushes them to the database every ``JOB_HEARTBEAT_SECONDS`` in one transaction, stamps the heartbeat and reads the
cancel flag. So a runner that logs a metric every step costs the database one small batch every few seconds.
"""

import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from .models import Job, JobMetric
from .runners.base import JobCancelled

LOG_TAIL_LINES = 200


class JobContext:
    def __init__(self, job: Job, *, reporting: bool = True):
        """``reporting=False``: heartbeat and cancel flag only (a node whose torchrun rank 0 reports, or a
        secondary node of a multi-host job); its log lines go to the file alone."""
        self.reporting = reporting
        self.job_id = job.pk
        self.attempt = job.attempt
        self.folder: Path = job.folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._metrics: list[JobMetric] = []
        self._progress: tuple[int, int | None, str] | None = None
        self._tail: deque[str] = deque(job.log_tail.splitlines()[-LOG_TAIL_LINES:], maxlen=LOG_TAIL_LINES)
        self._tail_dirty = False
        self._reports: dict[str, Any] = {}
        self._cancel = threading.Event()
        self._stop = threading.Event()
        log_name = "run.log" if reporting else f"worker-{os.getpid()}.log"
        self._log_file = (self.folder / log_name).open("a", encoding="utf-8")
        self._thread = threading.Thread(target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True)

    # --- RunContext -------------------------------------------------------------------------------------------
    def progress(self, step: int, total: int | None = None, message: str = "") -> None:
        with self._lock:
            self._progress = (int(step), None if total is None else int(total), message[:255])

    def metric(self, step: int, name: str, value: float) -> None:
        self.metrics(step, {name: value})

    def metrics(self, step: int, values: dict[str, float]) -> None:
        points = [JobMetric(job_id=self.job_id, step=int(step), name=n[:64], value=float(v)) for n, v in values.items()]
        with self._lock:
            self._metrics.extend(points)

    def log(self, line: str) -> None:
        text = line.rstrip("\n")
        with self._lock:
            self._log_file.write(text + "\n")
            self._log_file.flush()
            if self.reporting:
                self._tail.extend(text.splitlines() or [""])
                self._tail_dirty = True

    def report(self, key: str, value: Any) -> None:
        with self._lock:
            self._reports[key] = value

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def resolve_input(self, reference: str | int, kind: str | None = None) -> Path:
        from .services.artifacts import artifact_resolve

        artifact = artifact_resolve(reference, kind)
        Job.objects.get(pk=self.job_id).inputs.add(artifact)
        return artifact.absolute_path

    # --- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=30)
        self.flush()
        if not self._log_file.closed:
            self._log_file.close()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _beat(self) -> None:
        interval = settings.JOB_HEARTBEAT_SECONDS
        try:
            while not self._stop.wait(interval):
                try:
                    self.flush()
                except Exception:  # a transient database error must not kill the heartbeat
                    close_old_connections()
        finally:
            connection.close()

    def flush(self) -> None:
        with self._lock:
            metrics, self._metrics = self._metrics, []
            progress, self._progress = self._progress, None
            tail = "\n".join(self._tail) if self._tail_dirty else None
            self._tail_dirty = False
            reports, self._reports = self._reports, {}
        with transaction.atomic():
            job = Job.objects.select_for_update().only("cancel_requested", "status", "result").get(pk=self.job_id)
            if job.cancel_requested:
                self._cancel.set()
            update: dict[str, Any] = {"heartbeat_at": timezone.now()}
            if progress is not None:
                update.update(progress_step=progress[0], progress_message=progress[2])
                if progress[1] is not None:
                    update["progress_total"] = progress[1]
            if tail is not None:
                update["log_tail"] = tail
            if reports:
                update["result"] = {**job.result, "reports": {**job.result.get("reports", {}), **reports}}
            Job.objects.filter(pk=self.job_id).update(**update)
            if metrics:
                JobMetric.objects.bulk_create(metrics, batch_size=1000)
