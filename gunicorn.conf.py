"""gunicorn settings for plumbline's web process, read from the environment (docker-compose and bench/ use them).

gthread workers: each process serves ``threads`` requests at a time and parks idle keep-alive connections in its
poller, so many annotators' connections cost no thread. Django is CPU-bound under the GIL, so processes (not
threads) give parallelism; a few threads per process keep the CPU busy while one waits on the database.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Annotators pause between tasks; a long keep-alive spares a TCP handshake per request.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Streaming exports of millions of rows run for minutes; the worker heartbeats from its own loop meanwhile.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Load every view now, then take what is loaded out of the garbage collector's sight (``gc.freeze``).

    A Django worker holds a few hundred thousand long-lived objects (modules, URL patterns, serializers, model
    metadata). Every full collection walked them all, stopping the worker's threads for 90-160 ms a few times a
    minute under load, a large part of the annotation API's p99 (bench/annotation_load.py; 5-47 ms after this).
    Frozen objects stay reachable and are freed at exit; collections only see what requests create.
    """
    import gc

    from django.urls import get_resolver

    _ = get_resolver().url_patterns  # imports the URLconf: every view, serializer and service module it names
    gc.collect()
    gc.freeze()
