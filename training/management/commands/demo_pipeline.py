"""``manage.py demo_pipeline``: the whole data → base model → candidates loop on the demo, as jobs.

Stages (each a job, skipped when a succeeded demo job of that stage exists, so re-running is safe):
prepare the pydocs corpus → train a BPE tokenizer and token shards → pretrain a small base model → sample
candidate responses from it into the demo annotation project. By default the jobs run on the Celery workers
(``make demo`` starts one); ``--inline`` runs them in this process.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from annotation.models import Project

from ...models import Job, JobStatus
from ...services import job_execute, job_launch

DEMO_PROJECT = "Demo: helpful assistant"


def stages(project_id: int | None) -> list[tuple[str, str, dict]]:
    out = [
        ("corpus", "prepare_corpus", {"sources": [{"type": "pydocs", "max_bytes": 6_000_000}]}),
        ("tokenizer", "train_tokenizer", {"algorithm": "bpe", "vocab_size": 4096}),
        (
            "base model",
            "pretrain",
            {
                # About 5M parameters: a few minutes on 2 CPU cores, enough to babble in docstring style.
                "preset": "custom",
                "n_layers": 4,
                "hidden_size": 256,
                "n_heads": 4,
                "seq_len": 128,
                "micro_batch_size": 16,
                "global_batch_tokens": 4096,
                "max_steps": 120,
                "warmup_steps": 10,
                "lr": 3e-3,
                "eval_every": 40,
                "checkpoint_every": 40,
            },
        ),
    ]
    if project_id is not None:
        out.append(
            (
                "candidates",
                "generate",
                {"project": project_id, "samples_per_prompt": 2, "max_new_tokens": 48, "max_prompts": 40},
            )
        )
    return out


class Command(BaseCommand):
    help = "Run the demo pipeline (corpus, tokenizer, base model, candidate responses) as jobs."

    def add_arguments(self, parser):
        parser.add_argument("--inline", action="store_true", help="run the jobs in this process (no worker needed)")
        parser.add_argument("--timeout", type=float, default=3600, help="give up waiting for a stage after this")

    def handle(self, *args, **opts):
        project = Project.objects.filter(name=DEMO_PROJECT).first()
        for label, kind, config in stages(project.pk if project else None):
            name = f"demo: {label}"
            done = Job.objects.filter(name=name, kind=kind, status=JobStatus.SUCCEEDED).first()
            if done is not None:
                self.stdout.write(f"{label}: done already (job {done.pk})")
                continue
            job = Job.objects.filter(name=name, kind=kind, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
            job = job or job_launch(kind=kind, config=config, name=name, queue="cpu" if opts["inline"] else None)
            self.stdout.write(f"{label}: {kind} job {job.pk}")
            if opts["inline"]:
                job_execute(job_id=job.pk, hostname="demo-inline")
            job = self._wait(job.pk, opts["timeout"])
            if job.status != JobStatus.SUCCEEDED:
                raise CommandError(f"{label} ({kind} job {job.pk}) {job.status}: {job.error_message}")
            self.stdout.write(self.style.SUCCESS(f"{label}: succeeded ({job.duration})"))

    def _wait(self, job_id: int, timeout: float) -> Job:
        start = time.monotonic()
        while not (job := Job.objects.get(pk=job_id)).is_finished:
            if time.monotonic() - start > timeout:
                raise CommandError(f"job {job_id} still {job.status} after {timeout:.0f}s")
            time.sleep(1)
        return job
