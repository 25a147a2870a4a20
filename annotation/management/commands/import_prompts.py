"""``manage.py import_prompts PROJECT FILE``: the JSONL import of ``POST /api/v1/projects/{id}/import/``.

All or nothing, like the API: one bad line stops the import with its line number and a non-zero exit status.
"""

import sys
from contextlib import nullcontext
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.api_errors import ApiError

from ...services import prompts_import
from ...services.imports import bounded_lines
from ..base import project_by_ref


class Command(BaseCommand):
    help = "Import prompts and candidate responses from a JSONL file into a project (all lines or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id or name.")
        parser.add_argument("file", help="JSONL file to import, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_by_ref(options["project"])
        path = options["file"]
        try:
            source = nullcontext(sys.stdin.buffer) if path == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        with source as readable:
            try:
                summary = prompts_import(project=project, lines=bounded_lines(readable))
            except ApiError as exc:
                raise CommandError(f"{path}: {exc.detail} Nothing was imported.") from None
        counts = summary.as_dict()
        self.stdout.write(
            f"Imported {path} into project {project.pk} ({project}): {counts['lines']} lines, "
            f"{counts['prompts_created']} prompts created, {counts['prompts_merged']} merged, "
            f"{counts['responses_created']} responses, {counts['tasks_created']} tasks."
        )
