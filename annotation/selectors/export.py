"""Export rows in the shapes TRL and ``datasets`` load unchanged, streamed from a server-side cursor.

Preference rows: ``{"prompt", "chosen", "rejected"}`` as strings (standard) or message lists (conversational), plus
metadata columns. SFT rows: ``{"messages": [...]}`` (conversational) or ``{"prompt", "completion"}`` (standard).
Rows come in a fixed order, so the same filters over unchanged data always give the same bytes.

The statements are written by hand (``webapp.fastsql``): building rows through the ORM (``values_list``, its
per-row converters) cost more CPU than the database (bench/export.py). Each selector comes in two forms: ``*_batches``
yields ``Columns`` (one fetch of rows, column by column: what the byte streams consume, Parquet without a dict per
row) and ``*_rows`` yields one dict per row. Rows of one prompt share its decoded message list: treat rows as
read-only.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from webapp import fastsql
from webapp.api_errors import ApiError
from webapp.fastsql import col, table

from ..export_formats import AssistantMessages, Columns
from ..models import Demonstration, PreferencePair, Project, Prompt, Response, Task

BATCH = 2000  # rows per fetch (one round trip on PostgreSQL); their prompts and responses are looked up together
SPLITS = ("train", "validation", "test")


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


PAIR_STATS = ("split", "margin", "agreement", "strength", "votes_chosen", "votes_rejected", "votes_tie")
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected", "id", "prompt_id", "chosen_id", "rejected_id", *PAIR_STATS)


def _json(text: str) -> Any:
    """orjson for speed; the stdlib for anything orjson is stricter about (it is what JSONField itself uses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _pairs_sql(filters: PreferenceFilters) -> str:
    P = PreferencePair
    columns = ", ".join(col(P, f) for f in ("id", "prompt", "chosen", "rejected", *PAIR_STATS))
    where = [f"{col(P, 'project')} = %s"]
    if not filters.include_ties:
        where.append(f"NOT {col(P, 'is_tie')}")
    if filters.split:
        where.append(f"{col(P, 'split')} = %s")
    if filters.min_agreement is not None:
        where.append(f"{col(P, 'agreement')} >= %s")
    return f"SELECT {columns} FROM {table(P)} WHERE {' AND '.join(where)} ORDER BY {col(P, 'id')}"


def _pairs_params(project: Project, filters: PreferenceFilters) -> list[Any]:
    params: list[Any] = [project.pk]
    if filters.split:
        params.append(filters.split)
    if filters.min_agreement is not None:
        params.append(filters.min_agreement)
    return params


def _lookup(model: type[Prompt] | type[Response], sql: str, ids: set[int]) -> list[tuple]:
    """Rows of ``sql`` (a SELECT of ``model`` ending in WHERE) for these primary keys."""
    condition, params = fastsql.id_in(col(model, "id"), ids)
    return fastsql.fetchall(f"{sql} {condition}", params)


def _prompts_sql() -> str:
    return (
        f"SELECT {col(Prompt, 'id')}, {col(Prompt, 'external_id')}, CAST({col(Prompt, 'messages')} AS text), "
        f"{col(Prompt, 'is_conversation')} FROM {table(Prompt)} WHERE"
    )


def _responses_sql() -> str:
    return f"SELECT {col(Response, 'id')}, {col(Response, 'text')} FROM {table(Response)} WHERE"


def preference_batches(*, project: Project, filters: PreferenceFilters) -> Iterator[Columns]:
    """Preference rows in ``Columns`` batches, in pair id order.

    The pairs are read alone, in order, and each batch's prompts and responses are looked up by id, once each:
    a prompt has several pairs (6 for 4 responses) and a response sits in several, so this sends PostgreSQL a
    third of the bytes a join would, and decodes each prompt once (bench/export.py). The lookups run beside the
    cursor in its snapshot (``fastsql.streaming_read``).
    """
    conversational = filters.style == "conversational"
    pairs_sql, prompts_sql, responses_sql = _pairs_sql(filters), _prompts_sql(), _responses_sql()
    prompts: dict[int, tuple[Any, str]] = {}  # id -> (prompt value, prompt_id column); those of the last batch
    texts: dict[int, str] = {}
    with fastsql.streamed(pairs_sql, _pairs_params(project, filters), BATCH) as fetched:
        for rows in fetched:
            ids, prompt_ids, chosen_ids, rejected_ids, splits, *numbers = zip(*rows, strict=True)
            wanted = set(prompt_ids)
            if missing := wanted.difference(prompts):
                for pk, external_id, messages, is_conversation in _lookup(Prompt, prompts_sql, missing):
                    decoded = _json(messages)
                    value = decoded if conversational else _prompt_text(decoded, is_conversation)
                    prompts[pk] = (value, external_id or str(pk))
            prompts = {pk: prompts[pk] for pk in wanted if pk in prompts}
            wanted = {*chosen_ids, *rejected_ids}
            if missing := wanted.difference(texts):
                texts.update(_lookup(Response, responses_sql, missing))
            texts = {pk: texts[pk] for pk in wanted if pk in texts}
            if len(prompts) < len(set(prompt_ids)) or len(texts) < len(wanted):
                # Only inside an outer READ COMMITTED transaction: a prompt or response deleted since the cursor
                # opened. Its pairs went with it (on delete cascade), so they are left out as the newer state has it.
                keep = [
                    i
                    for i in range(len(ids))
                    if prompt_ids[i] in prompts and chosen_ids[i] in texts and rejected_ids[i] in texts
                ]
                if not keep:
                    continue
                ids, prompt_ids, chosen_ids, rejected_ids, splits, *numbers = (
                    [column[i] for i in keep]
                    for column in (ids, prompt_ids, chosen_ids, rejected_ids, splits, *numbers)
                )
            prompt = [prompts[pk] for pk in prompt_ids]
            chosen: Sequence[Any] = [texts[pk] for pk in chosen_ids]
            rejected: Sequence[Any] = [texts[pk] for pk in rejected_ids]
            if conversational:
                chosen, rejected = AssistantMessages(chosen), AssistantMessages(rejected)
            yield Columns(
                PREFERENCE_COLUMNS,
                [
                    [value for value, _ in prompt],
                    chosen,
                    rejected,
                    [f"pair-{pk}" for pk in ids],
                    [key for _, key in prompt],
                    chosen_ids,
                    rejected_ids,
                    splits,
                    *numbers,
                ],
            )


def preference_rows(*, project: Project, filters: PreferenceFilters) -> Iterator[dict[str, Any]]:
    for batch in preference_batches(project=project, filters=filters):
        yield from batch.rows()


def _demonstrations_sql(filters: SftFilters) -> str:
    D, T, P = Demonstration, Task, Prompt
    d, t, p = table(D), table(T), table(P)
    where = [
        f"{t}.{col(T, 'project')} = %s",
        f"{d}.{col(D, 'review_status')} {'<>' if filters.include_pending else '='} %s",
    ]
    if filters.split:
        where.append(f"{p}.{col(P, 'split')} = %s")
    return (
        f"SELECT {d}.{col(D, 'id')}, {t}.{col(T, 'prompt')}, {p}.{col(P, 'external_id')}, "
        f"CAST({p}.{col(P, 'messages')} AS text), {p}.{col(P, 'is_conversation')}, {p}.{col(P, 'split')}, "
        f"{d}.{col(D, 'text')} "
        f"FROM {d} INNER JOIN {t} ON {d}.{col(D, 'task')} = {t}.{col(T, 'id')} "
        f"INNER JOIN {p} ON {t}.{col(T, 'prompt')} = {p}.{col(P, 'id')} "
        f"WHERE {' AND '.join(where)} ORDER BY {d}.{col(D, 'id')}"
    )


def sft_batches(*, project: Project, filters: SftFilters) -> Iterator[Columns]:
    """SFT rows in ``Columns`` batches, in demonstration id order (a prompt has few demonstrations: one join)."""
    review = Demonstration.Review
    params: list[Any] = [project.pk, (review.REJECTED if filters.include_pending else review.ACCEPTED).value]
    if filters.split:
        params.append(filters.split)
    conversational = filters.style == "conversational"
    names = (
        ("messages", "id", "prompt_id", "split")
        if conversational
        else ("prompt", "completion", "id", "prompt_id", "split")
    )
    with fastsql.streamed(_demonstrations_sql(filters), params, BATCH) as fetched:
        for rows in fetched:
            ids, prompt_ids, external_ids, messages, is_conversation, splits, texts = zip(*rows, strict=True)
            decoded = [_json(m) for m in messages]
            if conversational:
                content: list[list[Any]] = [
                    [[*m, {"role": "assistant", "content": text}] for m, text in zip(decoded, texts, strict=True)]
                ]
            else:
                content = [
                    [_prompt_text(m, c) for m, c in zip(decoded, is_conversation, strict=True)],
                    texts,
                ]
            yield Columns(
                names,
                [
                    *content,
                    [f"demo-{pk}" for pk in ids],
                    [e or str(pk) for e, pk in zip(external_ids, prompt_ids, strict=True)],
                    splits,
                ],
            )


def sft_rows(*, project: Project, filters: SftFilters) -> Iterator[dict[str, Any]]:
    for batch in sft_batches(project=project, filters=filters):
        yield from batch.rows()
