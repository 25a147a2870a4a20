"""``manage.py export_preferences PROJECT``: ``GET /api/v1/projects/{id}/export/preferences/`` for scripts."""

from typing import Any

from django.core.management.base import CommandParser

from ...selectors.export import PreferenceFilters, preference_batches
from ..base import ExportCommand


class Command(ExportCommand):
    help = "Stream consensus preference pairs as JSONL or Parquet (TRL's prompt/chosen/rejected shape)."
    kind = "preference"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--style", choices=["standard", "conversational"], default="standard")
        parser.add_argument("--min-agreement", type=float, help="Only pairs whose agreement is at least this (0..1).")
        parser.add_argument("--include-ties", action="store_true", help="Also export pairs whose consensus is a tie.")

    def filters(self, options: dict[str, Any]) -> PreferenceFilters:
        return PreferenceFilters(
            split=options["split"],
            style=options["style"],
            min_agreement=options["min_agreement"],
            include_ties=options["include_ties"],
        )

    def batches(self, project, filters: PreferenceFilters):
        return preference_batches(project=project, filters=filters)
