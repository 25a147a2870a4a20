"""JSONL import of prompts and candidate responses: validated whole, then written in one transaction.

Each line: ``{"id"?, "prompt": str | "messages": [...], "responses"?: [str | {"text", "model"?}], "metadata"?,
"gold"?: {"ranking": [...response indices...]}}``. One bad line rejects the whole file with its line number.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction

from webapp.api_errors import ApiError

from ..hashing import content_hash, split_for, text_hash
from ..models import Project, Prompt, Response
from .tasks_build import chunks, tasks_ensure

ALLOWED_KEYS = {"id", "prompt", "messages", "responses", "metadata", "gold"}
ROLES = {"system", "user", "assistant"}


class ImportError_(ApiError):
    default_code = "invalid_import"

    def __init__(self, detail: str, *, line: int):
        super().__init__(f"line {line}: {detail}", line=line)


@dataclass
class ImportRecord:
    line: int
    external_id: str | None
    messages: list[dict]
    is_conversation: bool
    responses: list[dict]
    metadata: dict
    gold: list | None
    hash: str = ""


@dataclass
class ImportSummary:
    lines: int = 0
    prompts_created: int = 0
    prompts_merged: int = 0
    responses_created: int = 0
    tasks_created: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "prompts_created": self.prompts_created,
            "prompts_merged": self.prompts_merged,
            "responses_created": self.responses_created,
            "tasks_created": self.tasks_created,
        }


def _parse_messages(value: Any, line: int) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise ImportError_('"messages" must be a non-empty list of {"role", "content"}.', line=line)
    out = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or set(msg) - {"role", "content"} or "role" not in msg or "content" not in msg:
            raise ImportError_(f'messages[{i}] must be an object with "role" and "content".', line=line)
        if msg["role"] not in ROLES:
            raise ImportError_(f"messages[{i}].role must be one of {sorted(ROLES)}.", line=line)
        if not isinstance(msg["content"], str) or not msg["content"].strip():
            raise ImportError_(f"messages[{i}].content must be a non-empty string.", line=line)
        out.append({"role": msg["role"], "content": msg["content"]})
    if out[-1]["role"] != "user":
        raise ImportError_("the last message must be from the user (it is what the model answers).", line=line)
    return out


def _parse_responses(value: Any, line: int) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportError_('"responses" must be a list.', line=line)
    out, seen = [], set()
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise ImportError_(f'responses[{i}] must be a non-empty string or {{"text": ...}}.', line=line)
        extra = set(item) - {"text", "model", "model_version", "generation_params"}
        if extra:
            raise ImportError_(f"responses[{i}] has unknown keys: {sorted(extra)}.", line=line)
        if "model" in item and not isinstance(item["model"], str):
            raise ImportError_(f"responses[{i}].model must be a string.", line=line)
        if not isinstance(item.get("generation_params", {}), dict):
            raise ImportError_(f"responses[{i}].generation_params must be an object.", line=line)
        if item["text"] in seen:
            raise ImportError_(f"responses[{i}] repeats an earlier response of this prompt.", line=line)
        seen.add(item["text"])
        out.append(item)
    return out


def _parse_gold(value: Any, n_responses: int, project: Project, line: int) -> list | None:
    if value is None:
        return None
    k = project.responses_per_comparison
    if n_responses != k:
        raise ImportError_(f"a gold item needs exactly {k} responses (the project's comparison size).", line=line)
    ranking = value.get("ranking") if isinstance(value, dict) else None
    if not isinstance(ranking, list) or not ranking:
        raise ImportError_('"gold" must be {"ranking": [response indices, best first]}.', line=line)
    flat = []
    for group in ranking:
        group = group if isinstance(group, list) else [group]
        if not group or not all(isinstance(i, int) and not isinstance(i, bool) for i in group):
            raise ImportError_("gold ranking entries must be response indices (or lists of tied indices).", line=line)
        flat.extend(group)
    if sorted(flat) != list(range(k)):
        raise ImportError_(f"the gold ranking must name each response index 0..{k - 1} exactly once.", line=line)
    return [group if isinstance(group, list) else [group] for group in ranking]


def parse_record(raw: bytes, line: int, project: Project) -> ImportRecord | None:
    if len(raw) > settings.ANNOTATION_IMPORT_MAX_LINE_BYTES:
        raise ImportError_(f"longer than {settings.ANNOTATION_IMPORT_MAX_LINE_BYTES} bytes.", line=line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"not valid UTF-8 (byte {exc.start}).", line=line) from None
    if not text.strip():
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ImportError_(f"malformed JSON ({exc}).", line=line) from None
    if not isinstance(obj, dict):
        raise ImportError_("each line must be a JSON object.", line=line)
    unknown = set(obj) - ALLOWED_KEYS
    if unknown:
        raise ImportError_(f"unknown keys {sorted(unknown)}; allowed: {sorted(ALLOWED_KEYS)}.", line=line)
    if ("prompt" in obj) == ("messages" in obj):
        raise ImportError_('give exactly one of "prompt" (a string) or "messages" (a list).', line=line)
    if "prompt" in obj:
        if not isinstance(obj["prompt"], str) or not obj["prompt"].strip():
            raise ImportError_('"prompt" must be a non-empty string.', line=line)
        messages, is_conversation = [{"role": "user", "content": obj["prompt"]}], False
    else:
        messages, is_conversation = _parse_messages(obj["messages"], line), True
    external_id = obj.get("id")
    if external_id is not None:
        if isinstance(external_id, bool) or not isinstance(external_id, str | int):
            raise ImportError_('"id" must be a string or an integer.', line=line)
        external_id = str(external_id)
        if not external_id or len(external_id) > 255:
            raise ImportError_('"id" must have 1 to 255 characters.', line=line)
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ImportError_('"metadata" must be an object.', line=line)
    responses = _parse_responses(obj.get("responses"), line)
    gold = _parse_gold(obj.get("gold"), len(responses), project, line)
    record = ImportRecord(line, external_id, messages, is_conversation, responses, metadata, gold)
    record.hash = content_hash(messages)
    return record


def parse_lines(lines: Iterable[bytes], project: Project) -> list[ImportRecord]:
    records, total = [], 0
    for number, raw in enumerate(lines, start=1):
        total += len(raw)
        if total > settings.ANNOTATION_IMPORT_MAX_BYTES:
            raise ImportError_(f"the import exceeds {settings.ANNOTATION_IMPORT_MAX_BYTES} bytes.", line=number)
        record = parse_record(raw.rstrip(b"\r\n"), number, project)
        if record is not None:
            records.append(record)
    if not records:
        raise ApiError("The import holds no records.", code="empty_import")
    return records


def bounded_lines(readable) -> Iterator[bytes]:
    """Lines of at most the configured size (+ newline); a longer line is cut so parse_record rejects it."""
    limit = settings.ANNOTATION_IMPORT_MAX_LINE_BYTES + 2
    while True:
        line = readable.readline(limit)
        if not line:
            return
        yield line
        if len(line) >= limit and not line.endswith(b"\n"):
            return  # parse_record has raised for this over-long line before we get here


def prompts_import(*, project: Project, lines: Iterable[bytes]) -> ImportSummary:
    """Validate every line, then write everything or nothing."""
    records = parse_lines(lines, project)
    with transaction.atomic():
        return _write(project, records)


def _write(project: Project, records: list[ImportRecord]) -> ImportSummary:
    summary = ImportSummary(lines=records[-1].line)
    by_id: dict[str, Prompt] = {}
    by_hash: dict[str, Prompt] = {}
    ids = [r.external_id for r in records if r.external_id]
    for chunk in chunks(ids):
        for p in Prompt.objects.filter(project=project, external_id__in=chunk):
            by_id[p.external_id] = p
            by_hash[p.content_hash] = p
    for chunk in chunks([r.hash for r in records]):
        for p in Prompt.objects.filter(project=project, content_hash__in=chunk):
            by_hash[p.content_hash] = p
            if p.external_id:
                by_id[p.external_id] = p

    new_prompts: list[Prompt] = []
    record_prompt: list[Prompt] = []
    merged: set[int] = set()
    for r in records:
        prompt = by_id.get(r.external_id) if r.external_id else None
        if prompt is not None and prompt.content_hash != r.hash:
            raise ImportError_(f"id {r.external_id!r} exists already with a different prompt.", line=r.line)
        prompt = prompt or by_hash.get(r.hash)
        if prompt is None:
            prompt = Prompt(
                project=project,
                external_id=r.external_id,
                messages=r.messages,
                is_conversation=r.is_conversation,
                metadata=r.metadata,
                content_hash=r.hash,
                split=split_for(r.external_id or r.hash, project.split_ratios),
            )
            new_prompts.append(prompt)
            by_hash[r.hash] = prompt
            if r.external_id:
                by_id[r.external_id] = prompt
        elif prompt.pk is not None:
            merged.add(prompt.pk)
        record_prompt.append(prompt)
    Prompt.objects.bulk_create(new_prompts, batch_size=500)
    summary.prompts_created = len(new_prompts)
    summary.prompts_merged = len(merged)

    touched = {p.pk: p for p in record_prompt}
    existing_resp: dict[int, dict[str, Response]] = {pk: {} for pk in touched}
    for chunk in chunks(list(touched)):
        for resp in Response.objects.filter(prompt_id__in=chunk):
            existing_resp[resp.prompt_id][resp.text_hash] = resp
    new_responses: list[Response] = []
    record_responses: list[list[Response]] = []
    for r, prompt in zip(records, record_prompt, strict=True):
        mine = []
        for item in r.responses:
            h = text_hash(item["text"])
            resp = existing_resp[prompt.pk].get(h)
            if resp is None:
                model = item.get("model", "")
                resp = Response(
                    prompt=prompt,
                    text=item["text"],
                    text_hash=h,
                    source="model" if model else "human",
                    model_name=model,
                    model_version=item.get("model_version", ""),
                    generation_params=item.get("generation_params", {}),
                )
                existing_resp[prompt.pk][h] = resp
                new_responses.append(resp)
            mine.append(resp)
        record_responses.append(mine)
    Response.objects.bulk_create(new_responses, batch_size=500)
    summary.responses_created = len(new_responses)

    gold_for = {
        prompt.pk: (r, resps)
        for r, prompt, resps in zip(records, record_prompt, record_responses, strict=True)
        if r.gold
    }
    summary.tasks_created = tasks_ensure(project=project, prompts=touched, responses=existing_resp, gold_for=gold_for)
    return summary
