"""Gopher quality and repetition rules and C4's line rules: each rule fires on a document made to break it and
stays quiet on a clean one."""

import random

import numpy as np
import pytest

from training.corpus.c4 import c4_filter
from training.corpus.config import C4Config, GopherQualityConfig, GopherRepetitionConfig
from training.corpus.quality import gopher_quality
from training.corpus.repetition import (
    duplicate_ngram_fraction,
    gopher_repetition,
    ngram_hashes,
    top_ngram_fraction,
    word_ids,
)

_VOCAB = [
    "river", "mountain", "window", "library", "garden", "teacher", "number", "system", "picture", "morning",
    "reason", "market", "engine", "sister", "letter", "planet", "summer", "forest", "answer", "bridge", "doctor",
    "animal", "silver", "pocket", "button", "travel", "winter", "yellow", "basket", "candle", "circle", "mirror",
]  # fmt: skip


def clean_text(words: int = 200, seed: int = 0) -> str:
    """Varied prose: sentences of random vocabulary with the stop words, split into short paragraphs."""
    rng = random.Random(seed)
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        body = " ".join(rng.choice(_VOCAB) for _ in range(rng.randint(6, 12)))
        sentences.append(f"The {body} of the {rng.choice(_VOCAB)} and that {rng.choice(_VOCAB)}.")
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs)


def quality(text: str, **overrides) -> str | None:
    return gopher_quality(text, text.split(), GopherQualityConfig(**overrides))


def repetition(text: str, **overrides) -> str | None:
    return gopher_repetition(text, text.split(), GopherRepetitionConfig(**overrides))


def test_clean_document_passes_every_rule():
    text = clean_text()
    assert quality(text) is None
    assert repetition(text) is None


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("The cat and the dog sat with a hat.", "too_few_words"),
        ("the and to of " * 30_000, "too_many_words"),
        ("a b c d e f g h the and " * 20, "mean_word_length_low"),
        ("the and " + "incomprehensibilities " * 60, "mean_word_length_high"),
        (clean_text() + " #tag" * 40, "hash_ratio"),
        (clean_text() + " wait..." * 40, "ellipsis_ratio"),
        ("\n".join(f"- the {w} and the {w} of that item" for w in _VOCAB * 2), "bullet_lines"),
        ("\n".join(f"The {w} of the {w} and that thing went on..." for w in _VOCAB * 2), "ellipsis_lines"),
        (clean_text(80) + " " + " ".join(["1234", "5678", "(42)", "3.14"] * 30), "alphabetic_words"),
        (" ".join(random.Random(1).choice(_VOCAB) for _ in range(120)), "stop_words"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "",
)
def test_each_quality_rule_fires(text, rule):
    assert quality(text) == rule


def test_punctuation_tokens_are_not_words_and_thresholds_are_configurable():
    text = clean_text(200)
    assert quality(text + " - ; :" * 5) is None  # punctuation tokens are not words (they do count as non-alphabetic)
    assert quality(text + " - ; :" * 40) == "alphabetic_words"
    assert quality(text, min_words=10_000) == "too_few_words"
    assert quality(text, stop_words=["zebra"], min_stop_words=1) == "stop_words"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "\n".join(["the same line of the text and that"] * 3 + [clean_text(40, s) for s in range(3)]),
            "duplicate_lines",
        ),
        (clean_text(150) + "\n" + ("the bridge and the river " * 60), "top_2gram"),
        ((clean_text(100, 3) + "\n") * 1 + " ".join(clean_text(100, 3).split()[:60]), "duplicate_5grams"),
    ],
)
def test_each_repetition_rule_fires(text, rule):
    assert repetition(text) == rule


def test_paragraph_rule_on_its_own():
    text = "\n\n".join([clean_text(30, 1)] * 2 + [clean_text(30, 2)])
    lines_off = {"max_duplicate_line_fraction": 1.0, "max_duplicate_line_char_fraction": 1.0}
    assert repetition(text, **lines_off) == "duplicate_paragraphs"
    assert repetition(text, **lines_off, max_duplicate_paragraph_fraction=1.0) == "duplicate_paragraph_chars"


def test_ngram_fractions_count_each_character_once():
    words = ["a", "b", "c", "d", "e", "a", "b", "c", "d", "e", "x"]
    ids, lengths = word_ids(words), np.ones(len(words), dtype=np.int64)
    # "a b c d e" repeats once: its second occurrence (5 of 11 characters) is the duplicate; the first is the original
    assert duplicate_ngram_fraction(ids, lengths, 5, 11) == pytest.approx(5 / 11)
    assert duplicate_ngram_fraction(ids, lengths, 6, 11) == 0.0
    # the most frequent 2-gram occurs twice: 2 occurrences x 2 characters
    assert top_ngram_fraction(ids, lengths, 2, 11) == pytest.approx(4 / 11)
    assert top_ngram_fraction(word_ids(list("abcdef")), np.ones(6, dtype=int), 2, 6) == 0.0


def test_c4_line_rules():
    cfg = C4Config(enabled=True, min_sentences=1)
    text = (
        "This line is a proper sentence with enough words.\n"
        "too short.\n"
        "This line has enough words but no ending punctuation\n"
        "Please enable JavaScript to view this page properly today.\n"
        "Read our privacy policy before you continue reading here.\n"
        "Another proper sentence, with a citation marker here[1].\n"
    )
    new_text, rule, removed = c4_filter(text, cfg)
    assert rule is None and removed == 4
    assert (
        new_text
        == "This line is a proper sentence with enough words.\nAnother proper sentence, with a citation marker here."
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.", "lorem_ipsum"),
        ("Use a dict like {'a': 1} when you have many keys to map here.", "curly_brace"),
        ("short\nlines\nonly", "no_lines_left"),
        ("Just one long enough sentence stands alone here.", "too_few_sentences"),
    ],
)
def test_c4_document_rules(text, rule):
    assert c4_filter(text, C4Config(enabled=True))[1] == rule


def _documents(count: int, seed: int) -> list[list[str]]:
    """Word lists from prose to heavy repetition, some shorter than the n-grams."""
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        vocab = _VOCAB[: rng.choice([2, 4, 8, len(_VOCAB)])]
        docs.append([rng.choice(vocab) for _ in range(rng.choice([1, 3, 7, 40, 300]))])
        if i % 5 == 0:
            docs[-1] = docs[-1][:12] * 6  # a block repeated
    return docs


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"max_top_ngram_char_fraction": {"3": 0.05, "1": 0.5}, "max_duplicate_ngram_char_fraction": {"7": 0.3}},
        {"max_top_ngram_char_fraction": {}, "max_duplicate_ngram_char_fraction": {"5": 0.9, "6": 0.4, "8": 0.2}},
    ],
)
def test_a_shard_at_once_gives_each_documents_rules(overrides):
    from training.corpus.repetition import _top_ngram_fraction_exact, ngram_rules
    from training.corpus.words import Words

    cfg = GopherRepetitionConfig(**overrides)
    docs = [Words(words) for words in _documents(120, 1)]
    batched = ngram_rules(docs, cfg)
    assert batched == [ngram_rules([doc], cfg)[0] for doc in docs]
    assert len(set(batched)) > 2  # several rules fire, and some documents pass
    # each fraction against the plain np.unique computation
    for doc in docs[:40]:
        total = doc.total_chars()
        for n in (2, 3):
            hashes = ngram_hashes(doc.ids, n) if len(doc) >= n else None
            expected = 0.0 if hashes is None else _top_ngram_fraction_exact(hashes, doc.lengths, n, total)
            assert top_ngram_fraction(doc.ids, doc.lengths, n, total) == expected


def test_hash_clashes_fall_back_to_the_exact_computation(monkeypatch):
    """With only a few hash bits left next to the positions, different n-grams share them: the batch notices and
    computes those documents exactly, so the rules do not change."""
    from training.corpus import repetition
    from training.corpus.words import Words

    cfg = GopherRepetitionConfig()
    docs = [Words(words) for words in _documents(60, 2)]
    expected = repetition.ngram_rules(docs, cfg)
    original = repetition._Batch.__init__

    def few_hash_bits(self, batch_docs):
        original(self, batch_docs)
        self.bits = 61

    monkeypatch.setattr(repetition._Batch, "__init__", few_hash_bits)
    assert repetition.ngram_rules(docs, cfg) == expected


def test_ascii_scan_finds_the_same_tokens_without_letters():
    from training.corpus.quality import _NO_LETTER_TOKEN, _no_letter_tokens

    rng = random.Random(3)
    alphabet = "ab Z09_-.,#*()\t\n\x1c\x1f\x0b"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        fast = [len(token) for token in _no_letter_tokens(text)]  # lengths are what the rules use
        assert fast == [len(token) for token in _NO_LETTER_TOKEN.findall(f" {text} ")], repr(text)
