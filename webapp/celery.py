"""The Celery app. Workers: ``celery -A webapp worker -Q default,cpu`` (CPU) or ``-Q gpu --concurrency 1``."""

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.local")
# Before any job imports torch: idle OpenMP threads sleep instead of spinning (measured in docs/benchmarks.md,
# "Pretraining": the spinning default did 0.5-0.6x the work per CPU-second on a shared 2-core worker).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

app = Celery("plumbline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("cpu"), Queue("gpu"))
app.autodiscover_tasks()


@worker_init.connect
def _prepare_worker(**_kwargs) -> None:
    from .local_state import ensure_local_folders

    ensure_local_folders()
