"""Registering outputs (size, sha256, lineage) and resolving input references."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from webapp.api_errors import ApiError

from ..models import Artifact, Job, JobStatus
from ..runners.base import ArtifactSpec


def tree_digest(path: Path) -> tuple[str, int, int]:
    """(sha256, total bytes, file count) of a file, or of a folder's files in sorted relative-path order."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    size = 0
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return digest.hexdigest(), size, len(files)


def _relative(path: Path) -> str:
    root = Path(settings.ARTIFACTS_ROOT).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(f"artifact {resolved} lies outside ARTIFACTS_ROOT ({root})")
    return str(resolved.relative_to(root))


def snapshot_artifact(snapshot_id: int) -> Artifact:
    """The registry entry of an annotation dataset snapshot (created on first use), so runs can name it as input."""
    from annotation.models import DatasetSnapshot

    snapshot = DatasetSnapshot.objects.select_related("project").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise ApiError(f"No dataset snapshot {snapshot_id}.", code="unknown_input")
    artifact, _ = Artifact.objects.get_or_create(
        path=snapshot.path,
        defaults={
            "kind": Artifact.Kind.SNAPSHOT,
            "name": f"{snapshot.kind} snapshot {snapshot.pk} of {snapshot.project.name}",
            "size_bytes": snapshot.size_bytes,
            "sha256": snapshot.sha256,
            "metadata": {
                "snapshot_id": snapshot.pk,
                "snapshot_kind": snapshot.kind,
                "project_id": snapshot.project_id,
                "row_count": snapshot.row_count,
                "filters": snapshot.filters,
            },
        },
    )
    return artifact


def artifact_resolve(reference: str | int, kind: str | None = None) -> Artifact:
    """An artifact by id, by path (relative to ARTIFACTS_ROOT or absolute inside it), or "latest" of a kind.

    ``kind`` may list alternatives ("model|adapter"); "snapshot:preferences" / "snapshot:sft" name annotation
    dataset snapshots, which are also accepted as ``snapshot:<id>`` references ("snapshot:preferences|snapshot:sft"
    accepts either; "latest" then means the newest of the first).
    """
    ref = str(reference).strip()
    kinds = kind.split("|") if kind else []
    snapshot_kind = None
    snapshot_kinds: list[str] = []
    if kinds and kinds[0].startswith("snapshot:"):
        snapshot_kinds = [k.split(":", 1)[1] for k in kinds if k.startswith("snapshot:")]
        snapshot_kind = snapshot_kinds[0]
        kinds = ["snapshot"]
    if ref.startswith("snapshot:"):
        found = snapshot_artifact(int(ref.split(":", 1)[1]) if ref.split(":", 1)[1].isdigit() else -1)
        _check_snapshot_kind(found, snapshot_kinds)
        return found
    if snapshot_kind and ref == "latest":
        from annotation.models import DatasetSnapshot

        newest = DatasetSnapshot.objects.filter(kind=snapshot_kind).order_by("-id").first()
        if newest is None:
            raise ApiError(f"There is no {snapshot_kind} snapshot yet: freeze one first.", code="no_input")
        return snapshot_artifact(newest.pk)
    qs = Artifact.objects.all()
    if kinds:
        qs = qs.filter(kind__in=kinds)
    label = " or ".join(kinds) or "artifact"
    if ref == "latest":
        found = qs.filter(job__status=JobStatus.SUCCEEDED).order_by("-id").first() or qs.order_by("-id").first()
        if found is None:
            raise ApiError(f"There is no {label} yet to use as input.", code="no_input")
        return found
    if ref.isdigit():
        found = qs.filter(pk=int(ref)).first()
    else:
        try:
            found = qs.filter(
                path=_relative(Path(ref) if Path(ref).is_absolute() else settings.ARTIFACTS_ROOT / ref)
            ).first()
        except ValueError:
            found = None
    if found is None:
        raise ApiError(f"No {label} matches {ref!r}.", code="unknown_input")
    _check_snapshot_kind(found, snapshot_kinds)
    return found


def _check_snapshot_kind(artifact: Artifact, wanted: list[str]) -> None:
    have = artifact.metadata.get("snapshot_kind")
    if wanted and have not in wanted:
        raise ApiError(
            f"Artifact {artifact.pk} is a {have} snapshot; this run needs a {' or '.join(wanted)} snapshot.",
            code="wrong_input",
        )


@transaction.atomic
def artifact_register(*, spec: ArtifactSpec, job: Job | None = None) -> Artifact:
    path = Path(spec.path)
    if not path.exists():
        raise FileNotFoundError(f"the runner reported {path} as output, but it does not exist")
    sha, size, count = tree_digest(path)
    artifact, _ = Artifact.objects.update_or_create(
        path=_relative(path),
        defaults={
            "kind": spec.kind,
            "name": spec.name or f"{spec.kind} of job {job.pk if job else '-'}",
            "size_bytes": size,
            "sha256": sha,
            "file_count": count,
            "job": job,
            "metadata": spec.metadata,
        },
    )
    parents = [artifact_resolve(ref) for ref in spec.parents]
    if job is not None:
        parents.extend(job.inputs.all())
    artifact.parents.set({p.pk: p for p in parents if p.pk != artifact.pk}.values())
    return artifact
