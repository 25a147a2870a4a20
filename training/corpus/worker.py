"""The per-document steps, run on one shard in a worker process: everything but the two dedup steps, which need
the whole corpus seen so far and so run in the main process, in document order.

Steps run one after another over the shard's surviving documents (so language identification, the n-gram
repetition rules and harmful-content scoring see the whole batch at once): normalize, length, language, Gopher
quality, Gopher repetition, C4, PII redaction, harmful content. The survivors then get what the main process needs:
a split, a difficulty score, the exact-dedup hash and, for near-dup, their shingle set and MinHash signature.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .c4 import c4_filter
from .difficulty import difficulty
from .documents import Document
from .funnel import Tally, text_bytes
from .harmful import LexiconDetector, build_detector
from .language import identify_many, language_keep
from .minhash import shingles, signatures, tokens
from .normalize import normalize
from .pii import PLACEHOLDERS, redact
from .quality import gopher_quality
from .repetition import line_rules, ngram_rules
from .splits import assign_split
from .words import Words

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


class _Live:
    """A document still in the running, with what the steps computed about it so far."""

    __slots__ = ("_distinct", "_stats", "_tokens", "flags", "id", "size", "source", "text", "words")

    def __init__(self, doc: Document):
        self.id, self.source, self.text = doc.id, doc.source, doc.text
        self.size = text_bytes(doc.text)
        self.words: list[str] | None = None
        self._stats: Words | None = None
        self._tokens: list[str] | None = None
        self._distinct: set[str] | None = None
        self.flags: list[str] = []

    def replace_text(self, text: str) -> None:
        if text != self.text:
            self.text, self.size = text, text_bytes(text)
            self.words = self._stats = self._tokens = self._distinct = None

    def split_words(self) -> list[str]:
        """Whitespace-separated words (Gopher's rules and the difficulty score)."""
        if self.words is None:
            self.words = self.text.split()
        return self.words

    def stats(self) -> Words:
        """The words' vocabulary ids and lengths, shared by the repetition rules and the difficulty score."""
        if self._stats is None:
            self._stats = Words(self.split_words())
        return self._stats

    def tokens(self) -> list[str]:
        """Lower-cased word tokens (near-dup shingles and the lexicon detector)."""
        if self._tokens is None:
            self._tokens = tokens(self.text)
        return self._tokens

    def distinct_tokens(self) -> set[str]:
        """The set of ``tokens()``: the lexicon and the word-hash cache test each distinct token once."""
        if self._distinct is None:
            self._distinct = set(self.tokens())
        return self._distinct


class _Worker:
    def __init__(self, config: Any):
        self.config = config
        self.detector = build_detector(config.harmful) if config.harmful.enabled else None

    def process(self, index: int, docs: list[Document]) -> ShardOutput:
        cfg = self.config
        tally = Tally(cfg.samples_per_step)
        live = [_Live(doc) for doc in docs]
        for doc in live:
            tally.passed("read", doc.size, doc.size)
        steps = (
            ("normalize", self._normalize),
            ("length", self._length),
            ("language", self._language),
            ("gopher_quality", self._gopher_quality),
            ("gopher_repetition", self._gopher_repetition),
            ("c4", self._c4),
            ("pii", self._pii),
            ("harmful", self._harmful),
        )
        for name, step in steps:
            if getattr(cfg, name).enabled and live:
                live = step(live, tally)
        out = self._output(index, len(docs), live)
        out.tally = tally.to_json()
        return out

    def _normalize(self, live: list[_Live], tally: Tally) -> list[_Live]:
        kept = []
        for doc in live:
            before, original = doc.size, doc.text
            doc.replace_text(normalize(doc.text, self.config.normalize))
            if not doc.text:
                tally.removed("normalize", "empty", before, {"id": doc.id, "text": original})
                continue
            tally.passed("normalize", before, doc.size)
            kept.append(doc)
        return kept

    def _length(self, live: list[_Live], tally: Tally) -> list[_Live]:
        cfg = self.config.length
        kept = []
        for doc in live:
            n = len(doc.text)
            rule = "too_short" if n < cfg.min_chars else "too_long" if cfg.max_chars and n > cfg.max_chars else None
            if rule:
                tally.removed("length", rule, doc.size, {"id": doc.id, "text": doc.text})
            else:
                tally.passed("length", doc.size, doc.size)
                kept.append(doc)
        return kept

    def _language(self, live: list[_Live], tally: Tally) -> list[_Live]:
        cfg = self.config.language
        kept = []
        for doc, (language, probability) in zip(
            live, identify_many([d.text for d in live], cfg.sample_chars), strict=True
        ):
            if language_keep(language, probability, cfg):
                tally.passed("language", doc.size, doc.size)
                kept.append(doc)
                continue
            rule = "low_confidence" if language in cfg.languages else f"language_{language}"
            sample = {"id": doc.id, "language": language, "probability": round(probability, 3), "text": doc.text}
            tally.removed("language", rule, doc.size, sample)
        return kept

    def _gopher_quality(self, live: list[_Live], tally: Tally) -> list[_Live]:
        cfg = self.config.gopher_quality
        kept = []
        for doc in live:
            rule = gopher_quality(doc.text, doc.split_words(), cfg)
            if rule is None:
                tally.passed("gopher_quality", doc.size, doc.size)
                kept.append(doc)
            else:
                tally.removed("gopher_quality", rule, doc.size, {"id": doc.id, "text": doc.text})
        return kept

    def _gopher_repetition(self, live: list[_Live], tally: Tally) -> list[_Live]:
        cfg = self.config.gopher_repetition
        rules = [line_rules(doc.text, cfg) for doc in live]
        rest = [i for i, rule in enumerate(rules) if rule is None and live[i].split_words()]
        for i, rule in zip(rest, ngram_rules([live[i].stats() for i in rest], cfg), strict=True):
            rules[i] = rule  # the n-gram rules for the whole shard at once
        kept = []
        for doc, rule in zip(live, rules, strict=True):
            if rule is None:
                tally.passed("gopher_repetition", doc.size, doc.size)
                kept.append(doc)
            else:
                tally.removed("gopher_repetition", rule, doc.size, {"id": doc.id, "text": doc.text})
        return kept

    def _c4(self, live: list[_Live], tally: Tally) -> list[_Live]:
        kept = []
        for doc in live:
            new_text, rule, removed_lines = c4_filter(doc.text, self.config.c4)
            if new_text is None:
                tally.removed("c4", rule, doc.size, {"id": doc.id, "text": doc.text})
                continue
            before = doc.size
            if removed_lines:
                tally.count("c4", "lines_removed", removed_lines)
                doc.replace_text(new_text)
            tally.passed("c4", before, doc.size)
            kept.append(doc)
        return kept

    def _pii(self, live: list[_Live], tally: Tally) -> list[_Live]:
        for doc in live:
            redacted, findings = redact(doc.text, self.config.pii)
            before = doc.size
            if findings:
                doc.flags.append("pii_redacted")
                for finding in findings:
                    tally.count("pii", finding.kind)
                first = findings[0]
                left = max(0, first.start - 200)  # the redacted text matches the input up to the first finding
                tally.sample(
                    "pii",
                    {
                        "id": doc.id,
                        "kinds": sorted({f.kind for f in findings}),
                        "placeholder": PLACEHOLDERS[first.kind],
                        "text": redacted[left : left + 500],
                    },
                )
                doc.replace_text(redacted)
            tally.passed("pii", before, doc.size)
        return live

    def _harmful(self, live: list[_Live], tally: Tally) -> list[_Live]:
        cfg = self.config.harmful
        kept = []
        if isinstance(self.detector, LexiconDetector):
            scores = self.detector.score_tokens([d.tokens() for d in live], [d.distinct_tokens() for d in live])
        else:
            scores = self.detector.score([d.text for d in live])
        for doc, score in zip(live, scores, strict=True):
            if score >= cfg.threshold:
                sample = {"id": doc.id, "score": round(float(score), 4), "text": doc.text}
                if cfg.action == "drop":
                    tally.removed("harmful", "harmful", doc.size, sample)
                    continue
                doc.flags.append("harmful")
                tally.count("harmful", "flagged")
                tally.sample("harmful", {**sample, "rule": "flagged"})
            tally.passed("harmful", doc.size, doc.size)
            kept.append(doc)
        return kept

    def _output(self, index: int, consumed: int, live: list[_Live]) -> ShardOutput:
        cfg = self.config
        out = ShardOutput(index=index, consumed=consumed)
        for doc in live:
            stats = doc.stats()
            out.ids.append(doc.id)
            out.texts.append(doc.text)
            out.sources.append(doc.source)
            out.splits.append(assign_split(doc.id, cfg.split))
            out.difficulty.append(difficulty(stats.words, stats.ids, stats.total_chars()))
            out.flags.append(doc.flags)
            out.exact.append(hashlib.blake2b(doc.text.encode("utf-8"), digest_size=16).digest())
            if cfg.near_dup.enabled:
                out.shingles.append(shingles(doc.text, cfg.near_dup.shingle_size, doc.tokens(), doc.distinct_tokens()))
        if out.shingles:
            out.signatures = signatures(out.shingles, cfg.near_dup.num_perm, cfg.near_dup.seed)
        return out


_WORKER: _Worker | None = None


def init_worker(config: Any) -> None:
    """Pool initializer: build the detectors and tables once per process."""
    global _WORKER
    _WORKER = _Worker(config)


def process_shard(index: int, docs: list[Document]) -> ShardOutput:
    if _WORKER is None:
        raise RuntimeError("init_worker was not called in this process")
    return _WORKER.process(index, docs)
