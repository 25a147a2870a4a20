"""A real worker process on the configured broker (filesystem by default, Redis in the services run)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment, Task
from annotation.services import task_assign_next
from annotation.tasks import expire_leases
from tests.annotation.factories import seeded_project
from tests.worker_process import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_expires_stale_leases(tmp_path):
    project, (alice, _) = seeded_project(n=2, overlap=1, task_kinds=["comparison"])
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with celery_worker(tmp_path / "worker.log") as worker:
        expire_leases.apply_async(queue=worker.queue)
        deadline = time.monotonic() + 30
        while Assignment.objects.get(pk=lease.pk).status != Assignment.Status.EXPIRED:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
    task = Task.objects.get(pk=lease.task_id)
    assert task.assigned_count == 0 and task.state == "open"
