"""Launch → running latency of jobs through a real Celery worker (target with Redis: p50 < 1 s).

Sets up a throwaway SQLite database, starts one worker (Redis broker, or the filesystem broker with --broker fs),
launches N small prepare_corpus jobs one after another and reads created_at → started_at from the job rows.

    .venv/bin/python bench/job_latency.py --jobs 20 --broker redis
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--broker", choices=["redis", "fs"], default="redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="plumbline-latency-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings.local",
        "DJANGO_DEBUG": "false",
        "PLUMBLINE_VAR_DIR": str(tmp / "var"),
        "ARTIFACTS_ROOT": str(tmp / "artifacts"),
        "EVALUATION_AUTO_SUITES": "",
        "JOB_HEARTBEAT_SECONDS": "1",
    }
    if args.broker == "redis":
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from training.models import Job
    from training.services import job_launch

    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text("A small document for the latency benchmark. " * 40)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webapp",
            "worker",
            "-Q",
            "cpu",
            "--concurrency",
            "1",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "latency@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(8)  # worker start-up (imports) is not part of the measurement
        latencies = []
        config = {"sources": [{"type": "files", "path": str(corpus)}], "workers": 1}
        for _ in range(args.jobs):
            job = job_launch(kind="prepare_corpus", config=config)
            while (row := Job.objects.get(pk=job.pk)).started_at is None:
                time.sleep(0.005)
            latencies.append((row.started_at - row.created_at).total_seconds())
            while not Job.objects.get(pk=job.pk).is_finished:
                time.sleep(0.05)
    finally:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait()
    latencies.sort()
    result = {
        "broker": args.broker,
        "jobs": len(latencies),
        "p50_s": statistics.median(latencies),
        "p90_s": latencies[int(0.9 * (len(latencies) - 1))],
        "max_s": latencies[-1],
    }
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"job_latency_{args.broker}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
