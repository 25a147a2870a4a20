"""``manage.py export_sft PROJECT``: ``GET /api/v1/projects/{id}/export/sft/`` for scripts."""

from typing import Any

from django.core.management.base import CommandParser

from ...selectors.export import SftFilters, sft_batches
from ..base import ExportCommand


class Command(ExportCommand):
    help = "Stream accepted demonstrations as JSONL or Parquet (TRL's messages or prompt/completion shape)."
    kind = "SFT"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--style", choices=["conversational", "standard"], default="conversational")
        parser.add_argument(
            "--include-pending", action="store_true", help="Also export demonstrations not yet reviewed."
        )

    def filters(self, options: dict[str, Any]) -> SftFilters:
        return SftFilters(split=options["split"], style=options["style"], include_pending=options["include_pending"])

    def batches(self, project, filters: SftFilters):
        return sft_batches(project=project, filters=filters)
