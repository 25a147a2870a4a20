"""Deterministic hashes: prompt identity, response identity, and the split a prompt falls into."""

import hashlib

import orjson


def canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_hash(messages: list[dict]) -> str:
    return hashlib.sha256(canonical_json(messages)).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_for(key: str, ratios: dict[str, float]) -> str:
    """Map a stable key to train/validation/test with the given ratios (uniform over the sha256 of the key)."""
    digest = hashlib.sha256(f"plumbline-split:{key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for name in ("train", "validation", "test"):
        edge += float(ratios.get(name, 0.0))
        if point < edge:
            return name
    return "train"
