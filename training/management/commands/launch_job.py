"""``manage.py launch_job KIND --config FILE [--wait]``: launch a worker job; with --wait, follow it with a bar."""

import json
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from webapp.api_errors import ApiError

from ...models import Job, JobStatus
from ...runners import KINDS
from ...runners.cli import load_config_file
from ...services import job_launch


class Command(BaseCommand):
    help = "Launch a job (the kinds and their config fields: GET /api/v1/jobs/kinds/)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("--config", help="YAML or JSON config file; omitted fields take their defaults")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override one field")
        parser.add_argument("--name", default="")
        parser.add_argument("--queue", choices=Job.Queue.values)
        parser.add_argument("--user", help="username recorded as the creator")
        parser.add_argument("--wait", action="store_true", help="follow the job; exit non-zero if it fails")
        parser.add_argument("--timeout", type=float, default=0, help="with --wait: give up after this many seconds")

    def handle(self, *args, **opts):
        config = load_config_file(opts["config"]) if opts["config"] else {}
        for item in opts["set"]:
            key, _, raw = item.partition("=")
            try:
                config[key] = json.loads(raw)
            except json.JSONDecodeError:
                config[key] = raw
        user = get_user_model().objects.filter(username=opts["user"]).first() if opts["user"] else None
        try:
            job = job_launch(kind=opts["kind"], config=config, created_by=user, name=opts["name"], queue=opts["queue"])
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from None
        self.stdout.write(f"launched {job.kind} job {job.pk} on queue {job.queue}")
        if opts["wait"]:
            self._follow(job.pk, opts["timeout"])

    def _follow(self, job_id: int, timeout: float) -> None:
        start = time.monotonic()
        bar = tqdm(total=None, unit="step", dynamic_ncols=True, desc="queued")
        try:
            while True:
                job = Job.objects.get(pk=job_id)
                if job.progress_total and bar.total != job.progress_total:
                    bar.total = job.progress_total
                bar.n = job.progress_step
                bar.set_description((job.progress_message or job.status)[:40])
                bar.refresh()
                if job.is_finished:
                    break
                if timeout and time.monotonic() - start > timeout:
                    raise CommandError(f"job {job_id} still {job.status} after {timeout:.0f}s")
                time.sleep(0.5)
        finally:
            bar.close()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"job {job_id} {job.status}: {job.error_message}")
        outputs = ", ".join(f"{a.kind} #{a.pk} ({a.path})" for a in job.outputs.all())
        self.stdout.write(self.style.SUCCESS(f"job {job_id} succeeded; outputs: {outputs or 'none'}"))
