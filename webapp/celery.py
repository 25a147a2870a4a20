"""The Celery app. Workers: ``celery -A webapp worker -Q default,cpu`` (CPU) or ``-Q gpu --concurrency 1``."""

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.local")

app = Celery("plumbline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("cpu"), Queue("gpu"))
app.autodiscover_tasks()


@worker_init.connect
def _prepare_worker(**_kwargs) -> None:
    from .local_state import ensure_local_folders

    ensure_local_folders()
