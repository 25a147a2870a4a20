"""Test settings: fast password hashing, eager on_commit-free defaults, isolated var/ per run."""

import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import (
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    DATABASE_IS_SQLITE,
    DATABASES,
    REST_FRAMEWORK,
    VAR_DIR,
)

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
}

# A file-backed SQLite test database (one per test process), so a real Celery worker process can share it.
if DATABASE_IS_SQLITE:
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test" / f"test-{os.getpid()}.sqlite3")}
    (VAR_DIR / "test").mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# The filesystem broker gets a folder per test process unless a worker is told which one to share.
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker = Path(os.environ.get("PLUMBLINE_BROKER_DIR") or VAR_DIR / "test" / f"broker-{os.getpid()}")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{_broker / 'results'}"

# No automatic evaluation jobs after training jobs in tests (a test that wants them turns them on).
EVALUATION_AUTO_SUITES: list[str] = []

# In-process job tests run inside the test's transaction, which holds SQLite's write lock: a heartbeat thread would
# wait on it for the busy timeout. Jobs in tests flush when they end; worker-process tests set a short interval.
JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "3600"))
