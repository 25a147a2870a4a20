"""Celery tasks of the annotation app: thin wrappers that call one service."""

from celery import shared_task

from .services import leases_expire


@shared_task(name="annotation.tasks.expire_leases", ignore_result=True)
def expire_leases() -> int:
    return leases_expire()
