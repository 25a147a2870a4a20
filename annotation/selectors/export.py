"""Export rows in the shapes TRL and ``datasets`` load unchanged, streamed from a server-side cursor.

Preference rows: ``{"prompt", "chosen", "rejected"}`` as strings (standard) or message lists (conversational), plus
metadata columns. SFT rows: ``{"messages": [...]}`` (conversational) or ``{"prompt", "completion"}`` (standard).
Rows come in a fixed order, so the same filters over unchanged data always give the same bytes.
"""

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from webapp.api_errors import ApiError

from ..models import Demonstration, PreferencePair, Project

CHUNK = 2000
SPLITS = ("train", "validation", "test")


def _stream_values(qs) -> Iterator[tuple]:
    """The queryset's rows through a server-side cursor, read as the consumer asks for them.

    On PostgreSQL, Django declares the cursor WITH HOLD in autocommit mode, and PostgreSQL then runs the whole query
    and stores every row before the first one is sent (1M rows: about 1.3 GB of temp files and ~10 s before the first
    byte, bench/export.py). Inside a transaction the cursor is WITHOUT HOLD and rows are produced as they are
    fetched. SQLite streams either way, and an atomic block there would take the write lock (IMMEDIATE mode).
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            yield from qs.iterator(chunk_size=CHUNK)
    else:
        yield from qs.iterator(chunk_size=CHUNK)


def _prompt_text(messages: list[dict], is_conversation: bool) -> str:
    if not is_conversation and len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)


@dataclass(frozen=True)
class PreferenceFilters:
    split: str | None = None
    style: str = "standard"
    min_agreement: float | None = None
    include_ties: bool = False

    def __post_init__(self) -> None:
        if self.split not in (None, *SPLITS):
            raise ApiError(f"split must be one of {list(SPLITS)}.", code="invalid_filter")
        if self.style not in ("standard", "conversational"):
            raise ApiError('style must be "standard" or "conversational".', code="invalid_filter")
        if self.min_agreement is not None and not 0.0 <= self.min_agreement <= 1.0:
            raise ApiError("min_agreement must lie in [0, 1].", code="invalid_filter")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SftFilters:
    split: str | None = None
    style: str = "conversational"
    include_pending: bool = False

    def __post_init__(self) -> None:
        if self.split not in (None, *SPLITS):
            raise ApiError(f"split must be one of {list(SPLITS)}.", code="invalid_filter")
        if self.style not in ("standard", "conversational"):
            raise ApiError('style must be "standard" or "conversational".', code="invalid_filter")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PREFERENCE_FIELDS = (
    "id",
    "prompt_id",
    "prompt__external_id",
    "messages_json",
    "prompt__is_conversation",
    "split",
    "chosen_id",
    "chosen__text",
    "rejected_id",
    "rejected__text",
    "margin",
    "agreement",
    "strength",
    "votes_chosen",
    "votes_rejected",
    "votes_tie",
)


def _json(text: str) -> Any:
    """orjson for speed; the stdlib for anything orjson is stricter about (it is what JSONField itself uses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def preference_rows(*, project: Project, filters: PreferenceFilters) -> Iterator[dict[str, Any]]:
    # The prompt's messages come as JSON text, decoded with orjson: JSONField's per-row json.loads was a quarter of
    # the export's CPU (bench/export.py). Same values, same rows.
    qs = PreferencePair.objects.filter(project=project).annotate(
        messages_json=Cast("prompt__messages", output_field=TextField())
    )
    if not filters.include_ties:
        qs = qs.filter(is_tie=False)
    if filters.split:
        qs = qs.filter(split=filters.split)
    if filters.min_agreement is not None:
        qs = qs.filter(agreement__gte=filters.min_agreement)
    conversational = filters.style == "conversational"
    for (
        pair_id,
        prompt_id,
        external_id,
        messages,
        is_conversation,
        split,
        chosen_id,
        chosen,
        rejected_id,
        rejected,
        margin,
        agreement,
        strength,
        votes_chosen,
        votes_rejected,
        votes_tie,
    ) in _stream_values(qs.order_by("id").values_list(*PREFERENCE_FIELDS)):
        messages = _json(messages)
        if conversational:
            prompt: Any = messages
            chosen_out: Any = [{"role": "assistant", "content": chosen}]
            rejected_out: Any = [{"role": "assistant", "content": rejected}]
        else:
            prompt, chosen_out, rejected_out = _prompt_text(messages, is_conversation), chosen, rejected
        yield {
            "prompt": prompt,
            "chosen": chosen_out,
            "rejected": rejected_out,
            "id": f"pair-{pair_id}",
            "prompt_id": external_id or str(prompt_id),
            "chosen_id": chosen_id,
            "rejected_id": rejected_id,
            "split": split,
            "margin": margin,
            "agreement": agreement,
            "strength": strength,
            "votes_chosen": votes_chosen,
            "votes_rejected": votes_rejected,
            "votes_tie": votes_tie,
        }


def sft_rows(*, project: Project, filters: SftFilters) -> Iterator[dict[str, Any]]:
    qs = Demonstration.objects.filter(task__project=project)
    if filters.include_pending:
        qs = qs.exclude(review_status=Demonstration.Review.REJECTED)
    else:
        qs = qs.filter(review_status=Demonstration.Review.ACCEPTED)
    if filters.split:
        qs = qs.filter(task__prompt__split=filters.split)
    fields = (
        "id",
        "task__prompt_id",
        "task__prompt__external_id",
        "task__prompt__messages",
        "task__prompt__is_conversation",
        "task__prompt__split",
        "text",
    )
    for demo_id, prompt_id, external_id, messages, is_conversation, split, text in _stream_values(
        qs.order_by("id").values_list(*fields)
    ):
        if filters.style == "conversational":
            row: dict[str, Any] = {"messages": [*messages, {"role": "assistant", "content": text}]}
        else:
            row = {"prompt": _prompt_text(messages, is_conversation), "completion": text}
        row.update({"id": f"demo-{demo_id}", "prompt_id": external_id or str(prompt_id), "split": split})
        yield row
