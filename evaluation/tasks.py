"""Celery tasks of the evaluation app."""

from celery import shared_task

from .services import refresh_waiting_runs


@shared_task(name="evaluation.tasks.refresh_waiting_runs", ignore_result=True)
def refresh_waiting() -> int:
    return refresh_waiting_runs()
