"""Harmful-content detection behind one small interface, so a better detector drops in without touching the
pipeline: anything with ``score(texts) -> list[float]`` (0 harmless .. 1 harmful) is a detector.

The default is a lexicon detector over the word list that the ``better-profanity`` package ships (900+ words and
phrases, matched as whole lower-cased words, phrases as word sequences), less the entries that are ordinary or
technical vocabulary (``len``, ``meth``, ``strip``, ``kill``, ...: ``lexicon_ignore``): its score is the share of
the document's words that are lexicon hits divided by ``saturation`` and capped at 1, so one stray word in a long
page stays low while a short abusive message scores high. A local Hugging Face text-classification model is the
stronger option (``detector: classifier``); transformers is imported only then.
"""

import re
from functools import lru_cache
from importlib import resources
from typing import Protocol, runtime_checkable

from .config import HARMFUL_LABELS, LEXICON_IGNORE, HarmfulConfig

_TOKEN = re.compile(r"\w+")  # the same tokens as the near-dup shingles, so the worker tokenizes once


@runtime_checkable
class HarmfulContentDetector(Protocol):
    def score(self, texts: list[str]) -> list[float]: ...


@lru_cache(maxsize=8)
def _lexicon(ignore: frozenset[str]) -> tuple[frozenset[str], frozenset[tuple[str, ...]]]:
    words_file = resources.files("better_profanity").joinpath("profanity_wordlist.txt")
    entries = [_TOKEN.findall(line.lower()) for line in words_file.read_text(encoding="utf-8").splitlines()]
    single = frozenset(e[0] for e in entries if len(e) == 1 and e[0] not in ignore)
    phrases = frozenset(tuple(e) for e in entries if len(e) > 1)
    return single, phrases


class LexiconDetector:
    """Whole-word matches against the better-profanity word list, minus words that are ordinary vocabulary."""

    def __init__(self, saturation: float = 0.02, ignore: list[str] | tuple[str, ...] = LEXICON_IGNORE):
        self.saturation = saturation
        self.words, self.phrases = _lexicon(frozenset(w.lower() for w in ignore))
        self.phrase_heads = frozenset(p[0] for p in self.phrases)
        self.phrases_by_head: dict[str, list[list[str]]] = {}
        for phrase in sorted(self.phrases):
            self.phrases_by_head.setdefault(phrase[0], []).append(list(phrase))

    def hits(self, tokens: list[str], distinct: set[str] | None = None) -> int:
        """Lexicon words and phrases among ``tokens``; ``distinct``: their set, when the caller has it (the
        membership tests then run over the distinct tokens, a third of a document's)."""
        distinct = set(tokens) if distinct is None else distinct
        present = self.words.intersection(distinct)  # usually empty
        hits = sum(map(tokens.count, present)) if present else 0
        for head in self.phrase_heads.intersection(distinct):  # phrases start with common tokens ("x", "2")
            # only phrases whose every word is in the document can match: usually none, and no scan is needed
            phrases = [p for p in self.phrases_by_head[head] if distinct.issuperset(p)]
            if not phrases:
                continue
            i = tokens.index(head)
            while True:
                hits += sum(1 for p in phrases if tokens[i : i + len(p)] == p)
                try:
                    i = tokens.index(head, i + 1)
                except ValueError:
                    break
        return hits

    def score_tokens(self, token_lists: list[list[str]], distinct: list[set[str]] | None = None) -> list[float]:
        """Scores from lower-cased ``\\w+`` tokens (the worker already has them, and their sets)."""
        out = []
        for i, tokens in enumerate(token_lists):
            hits = self.hits(tokens, None if distinct is None else distinct[i])
            out.append(min(1.0, hits / max(len(tokens), 1) / self.saturation) if hits else 0.0)
        return out

    def score(self, texts: list[str]) -> list[float]:
        return self.score_tokens([_TOKEN.findall(text.lower()) for text in texts])


class ClassifierDetector:
    """A Hugging Face text-classification model; the score is the summed probability of the harmful labels."""

    def __init__(
        self, model_path: str, harmful_labels: list[str] | tuple[str, ...] = HARMFUL_LABELS, batch_size: int = 16
    ):
        from transformers import pipeline

        self.pipe = pipeline("text-classification", model=model_path, top_k=None, device="cpu")
        self.labels = {label.lower() for label in harmful_labels}
        self.batch_size = batch_size

    def score(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        results = self.pipe(list(texts), batch_size=self.batch_size, truncation=True)
        return [
            float(min(1.0, sum(r["score"] for r in per_text if r["label"].lower() in self.labels)))
            for per_text in results
        ]


def build_detector(cfg: HarmfulConfig) -> HarmfulContentDetector:
    if cfg.detector == "classifier":
        return ClassifierDetector(cfg.model_path, cfg.harmful_labels, cfg.batch_size)
    return LexiconDetector(cfg.saturation, cfg.lexicon_ignore)
