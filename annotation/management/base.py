"""What the annotation commands share: finding a project by id or name, and streaming an export to a file.

The commands mirror the API for scripts, so they call the same services, selectors and stream encoders; an export
written here is byte-for-byte what ``GET /api/v1/projects/{id}/export/...`` sends with the same filters.
"""

import io
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.api_errors import ApiError

from ..export_formats import Columns, stream_columns
from ..models import Project
from ..selectors.export import SPLITS


def project_by_ref(ref: str) -> Project:
    """A project by primary key, or else by exact name (scripts know one or the other)."""
    project = Project.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    project = project or Project.objects.filter(name=ref).first()
    if project is None:
        raise CommandError(f"No project with id or name {ref!r}.")
    return project


class _Counted:
    def __init__(self, batches: Iterable[Columns]):
        self.batches, self.count = batches, 0

    def __iter__(self) -> Iterator[Columns]:
        for batch in self.batches:
            self.count += len(batch)
            yield batch


class ExportCommand(BaseCommand, ABC):
    """Streams rows chunk by chunk: memory stays flat however many rows the project holds."""

    kind = ""  # "preferences" or "sft"; subclasses add their filters and rows

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id or name.")
        parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
        parser.add_argument("--split", choices=SPLITS, help="Only this split (default: all).")
        parser.add_argument(
            "--output",
            "-o",
            help="File to write (default: stdout). It appears only when complete: rows go to FILE.partial first.",
        )

    @abstractmethod
    def filters(self, options: dict[str, Any]): ...

    @abstractmethod
    def batches(self, project: Project, filters) -> Iterable[Columns]: ...

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_by_ref(options["project"])
        try:
            filters = self.filters(options)
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from None
        fmt = options["format"]
        rows = _Counted(self.batches(project, filters))
        chunks = stream_columns(rows, fmt)
        target = options["output"]
        if target and target != "-":
            _write_file(Path(target), chunks)
        else:
            self._write_stdout(chunks, fmt)
        where = target if target and target != "-" else "stdout"
        self.stderr.write(f"Exported {rows.count} {self.kind} rows of project {project.pk} ({project}) to {where}.")

    def _write_stdout(self, chunks: Iterable[bytes], fmt: str) -> None:
        out = self.stdout._out
        binary = out if isinstance(out, io.BufferedIOBase | io.RawIOBase) else getattr(out, "buffer", None)
        if binary is None and fmt == "parquet":
            raise CommandError("Parquet is binary: pass --output FILE (or run with a binary stdout).")
        try:
            if binary is not None:
                if binary is not out:
                    out.flush()  # text written before must come out before our bytes
                for chunk in chunks:
                    binary.write(chunk)
                binary.flush()
            else:
                for chunk in chunks:
                    out.write(chunk.decode("utf-8"))
                out.flush()
        except BrokenPipeError:  # `... | head`: the reader has gone, which is not an error of ours
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def _write_file(path: Path, chunks: Iterable[bytes]) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"Could not write {path}: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
