"""Freezing an export into an immutable, hashed dataset snapshot under ARTIFACTS_ROOT."""

import hashlib
import os
import tempfile
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..export_formats import jsonl_stream
from ..models import DatasetSnapshot, Project
from ..selectors.export import PreferenceFilters, SftFilters, preference_rows, sft_rows


def snapshot_freeze(
    *,
    project: Project,
    kind: str,
    filters: PreferenceFilters | SftFilters,
    created_by: AbstractBaseUser | None = None,
) -> tuple[DatasetSnapshot, bool]:
    """Write the export's rows to a file and register it; returns (snapshot, created).

    The rows are deterministic, so freezing the same filters over unchanged data yields the same sha256; that
    snapshot is returned instead of a copy.
    """
    rows = (
        preference_rows(project=project, filters=filters)
        if kind == "preferences"
        else sft_rows(project=project, filters=filters)
    )
    folder = settings.ARTIFACTS_ROOT / "snapshots" / f"project-{project.pk}"
    folder.mkdir(parents=True, exist_ok=True)
    digest, count, size, splits = hashlib.sha256(), 0, 0, {"train": 0, "validation": 0, "test": 0}
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".freeze-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in jsonl_stream(_counting(rows, splits)):
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        count = sum(splits.values())
        sha = digest.hexdigest()
        with transaction.atomic():
            existing = DatasetSnapshot.objects.filter(project=project, kind=kind, sha256=sha, filters=filters.as_dict())
            if (found := existing.first()) is not None and found.absolute_path.exists():
                os.unlink(tmp_name)
                return found, False
            relative = f"snapshots/project-{project.pk}/{kind}-{sha[:16]}.jsonl"
            os.replace(tmp_name, settings.ARTIFACTS_ROOT / relative)
            snapshot = DatasetSnapshot.objects.create(
                project=project,
                kind=kind,
                filters=filters.as_dict(),
                row_count=count,
                sha256=sha,
                path=relative,
                size_bytes=size,
                created_by=created_by,
                manifest={
                    "format": "jsonl",
                    "kind": kind,
                    "project": {"id": project.pk, "name": project.name},
                    "filters": filters.as_dict(),
                    "row_count": count,
                    "rows_per_split": splits,
                    "size_bytes": size,
                    "sha256": sha,
                    "frozen_at": datetime.now(UTC).isoformat(),
                },
            )
            return snapshot, True
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def _counting(rows, splits: dict[str, int]):
    for row in rows:
        splits[row["split"]] = splits.get(row["split"], 0) + 1
        yield row
