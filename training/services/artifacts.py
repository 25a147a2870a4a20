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


def artifact_resolve(reference: str | int, kind: str | None = None) -> Artifact:
    """An artifact by id, by path (relative to ARTIFACTS_ROOT or absolute inside it), or "latest" of a kind."""
    ref = str(reference).strip()
    qs = Artifact.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if ref == "latest":
        found = qs.filter(job__status=JobStatus.SUCCEEDED).order_by("-id").first() or qs.order_by("-id").first()
        if found is None:
            raise ApiError(f"There is no {kind or 'artifact'} yet to use as input.", code="no_input")
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
        raise ApiError(f"No {kind or 'artifact'} matches {ref!r}.", code="unknown_input")
    return found


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
