#!/usr/bin/env bash
# Runs the web server and a Celery worker on the embedded default until Ctrl-C; stops both on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var/log
"$PY" -m celery -A webapp worker -Q default,cpu,gpu -l info --concurrency 2 >var/log/worker.log 2>&1 &
WORKER=$!
# The demo's data -> base model -> candidates loop runs as jobs on that worker; watch it at /jobs/.
"$PY" manage.py demo_pipeline >var/log/pipeline.log 2>&1 &
PIPELINE=$!
"$PY" -m celery -A webapp beat -l info --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT $PIPELINE 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
cat <<MSG

  plumbline is running:  http://$HOST:$PORT/
  API docs:              http://$HOST:$PORT/api/docs/
  Admin:                 http://$HOST:$PORT/admin/
  Jobs:                  http://$HOST:$PORT/jobs/   (the demo pipeline: corpus, tokenizer, base model,
                         candidate responses; log in var/log/pipeline.log)
  Worker log:            var/log/worker.log   (Ctrl-C stops web and worker)

MSG
"$PY" manage.py runserver "$HOST:$PORT" --noreload
