"""Folders the embedded default needs before the first query or publish (a fresh clone has no var/)."""

import os
from pathlib import Path

from django.conf import settings


def ensure_local_folders() -> None:
    if settings.DATABASE_IS_SQLITE:
        Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
        os.makedirs(settings.CELERY_RESULT_BACKEND.removeprefix("file://"), exist_ok=True)
