"""Held-out prompts for generation suites, and formatting them for a given tokenizer."""

import json
from pathlib import Path
from typing import Any


def heldout_prompts(spec, *, source_keys: tuple[str, ...] = ("preferences", "demonstrations")) -> list[dict[str, Any]]:
    """Prompts (as message lists) from the test/validation split of a snapshot, or a JSONL in benchmark_data."""
    path = spec.config.benchmark_data.get(spec.name)
    rows: list[dict[str, Any]] = []
    if path:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                obj = json.loads(line)
                if "messages" not in obj and "prompt" not in obj:
                    raise ValueError(f"{path} line {n}: needs 'prompt' or 'messages'")
                rows.append({"messages": obj.get("messages") or [{"role": "user", "content": obj["prompt"]}]})
    else:
        snapshot = next((spec.inputs[k] for k in source_keys if k in spec.inputs), None)
        if snapshot is None:
            raise ValueError(f"{spec.name} needs prompts: a preferences or demonstrations snapshot, or a JSONL file")
        all_rows = [json.loads(line) for line in Path(snapshot).read_text(encoding="utf-8").splitlines() if line]
        wanted = [r for r in all_rows if r.get("split") == spec.config.split] or [
            r for r in all_rows if r.get("split") in ("validation", "test")
        ]
        seen = set()
        for r in wanted or all_rows:
            prompt = r.get("prompt", r.get("messages", [])[:-1])
            messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
            key = json.dumps(messages, sort_keys=True)
            if messages and key not in seen:
                seen.add(key)
                rows.append({"messages": messages})
    if spec.config.limit:
        rows = rows[: spec.config.limit]
    if not rows:
        raise ValueError(f"{spec.name}: no prompts to evaluate")
    return rows


def render(tokenizer, messages: list[dict]) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\n\nAssistant:"
