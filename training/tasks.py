"""Celery tasks of the training app: take ids, call one service."""

from celery import shared_task

from .services import job_execute, jobs_reap_stale


@shared_task(name="training.tasks.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(self, job_id: int) -> str:
    return job_execute(job_id=job_id, hostname=self.request.hostname or "")


@shared_task(name="training.tasks.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    return jobs_reap_stale()
