"""The per-document steps, run on one shard in a worker process: everything but the two dedup steps, which need
the whole corpus seen so far and so run in the main process, in document order.

Order: normalize, length, language, Gopher quality, Gopher repetition, C4, PII redaction, harmful content; then
the survivors get what the main process needs: a split, a difficulty score, the exact-dedup hash and, for the
near-dup step, their shingle set and MinHash signature.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .c4 import c4_filter
from .difficulty import difficulty
from .documents import Document
from .funnel import Tally, text_bytes
from .harmful import build_detector
from .language import language_filter
from .minhash import shingles, signature
from .normalize import normalize
from .pii import PLACEHOLDERS, redact
from .quality import gopher_quality
from .repetition import gopher_repetition, word_ids
from .splits import assign_split

STEP_ORDER = [
    "read",
    "normalize",
    "length",
    "language",
    "gopher_quality",
    "gopher_repetition",
    "c4",
    "pii",
    "harmful",
    "exact_dedup",
    "near_dup",
]


def enabled_steps(config: Any) -> list[str]:
    return ["read"] + [name for name in STEP_ORDER[1:] if getattr(config, name).enabled]


@dataclass
class ShardOutput:
    """What one shard sends back: the surviving documents, column by column, plus its tally."""

    index: int
    consumed: int  # documents the shard took from the stream
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    difficulty: list[float] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)
    exact: list[bytes] = field(default_factory=list)
    signatures: np.ndarray | None = None  # (n, num_perm) uint32
    shingles: list[np.ndarray] = field(default_factory=list)
    tally: dict = field(default_factory=dict)


class _Worker:
    def __init__(self, config: Any):
        self.config = config
        self.detector = build_detector(config.harmful) if config.harmful.enabled else None

    def _filters(self, doc: Document, tally: Tally) -> tuple[str, list[str]] | None:
        """Run the per-document filters; the surviving text and its flags, or None if a step removed it."""
        cfg = self.config
        text = doc.text
        size = text_bytes(text)
        tally.passed("read", size, size)
        sample = {"id": doc.id}
        if cfg.normalize.enabled:
            text = normalize(text, cfg.normalize)
            if not text:
                tally.removed("normalize", "empty", size, {**sample, "text": doc.text})
                return None
            new_size = text_bytes(text)
            tally.passed("normalize", size, new_size)
            size = new_size
        if cfg.length.enabled:
            if len(text) < cfg.length.min_chars:
                tally.removed("length", "too_short", size, {**sample, "text": text})
                return None
            if cfg.length.max_chars and len(text) > cfg.length.max_chars:
                tally.removed("length", "too_long", size, {**sample, "text": text})
                return None
            tally.passed("length", size, size)
        if cfg.language.enabled:
            keep, language, probability = language_filter(text, cfg.language)
            if not keep:
                rule = "low_confidence" if language in cfg.language.languages else f"language_{language}"
                tally.removed(
                    "language",
                    rule,
                    size,
                    {**sample, "language": language, "probability": round(probability, 3), "text": text},
                )
                return None
            tally.passed("language", size, size)
        words = text.split()
        for name, check in (("gopher_quality", gopher_quality), ("gopher_repetition", gopher_repetition)):
            step_cfg = getattr(cfg, name)
            if step_cfg.enabled:
                rule = check(text, words, step_cfg)
                if rule is not None:
                    tally.removed(name, rule, size, {**sample, "text": text})
                    return None
                tally.passed(name, size, size)
        if cfg.c4.enabled:
            new_text, rule, _ = c4_filter(text, cfg.c4)
            if new_text is None:
                tally.removed("c4", rule, size, {**sample, "text": text})
                return None
            new_size = text_bytes(new_text)
            tally.passed("c4", size, new_size)
            text, size = new_text, new_size
        flags: list[str] = []
        if cfg.pii.enabled:
            redacted, findings = redact(text, cfg.pii)
            if findings:
                flags.append("pii_redacted")
                for f in findings:
                    tally.count("pii", f.kind)
                first = findings[0]
                shift = sum(len(PLACEHOLDERS[f.kind]) - (f.end - f.start) for f in findings if f.end <= first.start)
                left = max(0, first.start + shift - 200)
                tally.sample(
                    "pii",
                    {"id": doc.id, "kinds": sorted({f.kind for f in findings}), "text": redacted[left : left + 500]},
                )
                new_size = text_bytes(redacted)
                tally.passed("pii", size, new_size)
                text, size = redacted, new_size
            else:
                tally.passed("pii", size, size)
        return text, flags

    def process(self, index: int, docs: list[Document]) -> ShardOutput:
        cfg = self.config
        tally = Tally(cfg.samples_per_step)
        survivors: list[tuple[Document, str, list[str]]] = []
        for doc in docs:
            kept = self._filters(doc, tally)
            if kept is not None:
                survivors.append((doc, *kept))
        if self.detector is not None and survivors:
            survivors = self._harmful(survivors, tally)
        out = ShardOutput(index=index, consumed=len(docs))
        signatures = []
        for doc, text, flags in survivors:
            words = text.split()
            out.ids.append(doc.id)
            out.texts.append(text)
            out.sources.append(doc.source)
            out.splits.append(assign_split(doc.id, cfg.split))
            out.difficulty.append(difficulty(words, word_ids(words)))
            out.flags.append(flags)
            out.exact.append(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest())
            if cfg.near_dup.enabled:
                doc_shingles = shingles(text, cfg.near_dup.shingle_size)
                out.shingles.append(doc_shingles)
                signatures.append(signature(doc_shingles, cfg.near_dup.num_perm, cfg.near_dup.seed))
        if signatures:
            out.signatures = np.stack(signatures)
        out.tally = tally.to_json()
        return out

    def _harmful(self, survivors: list, tally: Tally) -> list:
        cfg = self.config.harmful
        scores = self.detector.score([text for _, text, _ in survivors])
        kept = []
        for (doc, text, flags), score in zip(survivors, scores, strict=True):
            size = text_bytes(text)
            if score >= cfg.threshold:
                sample = {"id": doc.id, "score": round(float(score), 4), "text": text}
                if cfg.action == "drop":
                    tally.removed("harmful", "harmful", size, sample)
                    continue
                flags = [*flags, "harmful"]
                tally.sample("harmful", {**sample, "rule": "flagged"})
                tally.count("harmful", "flagged")
            tally.passed("harmful", size, size)
            kept.append((doc, text, flags))
        return kept


_WORKER: _Worker | None = None


def init_worker(config: Any) -> None:
    """Pool initializer: build the detectors and tables once per process."""
    global _WORKER
    _WORKER = _Worker(config)


def process_shard(index: int, docs: list[Document]) -> ShardOutput:
    if _WORKER is None:
        raise RuntimeError("init_worker was not called in this process")
    return _WORKER.process(index, docs)
