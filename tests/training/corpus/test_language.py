"""The vectorized language identifier gives py3langid's own answers, and the filter keeps what it is asked to."""

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from training.corpus.config import LanguageConfig
from training.corpus.language import identify, identify_many, language_keep

TEXTS = [
    "The committee published its annual report on the state of public libraries across the country.",
    "Le comité a publié son rapport annuel sur l'état des bibliothèques publiques dans tout le pays.",
    "Der Ausschuss veröffentlichte seinen Jahresbericht über den Zustand der öffentlichen Bibliotheken.",
    "El comité publicó su informe anual sobre el estado de las bibliotecas públicas en todo el país.",
    "Комитет опубликовал ежегодный доклад о состоянии публичных библиотек по всей стране.",  # noqa: RUF001
    "委員会は全国の公共図書館の状況に関する年次報告書を発表した。",
    "THE COMMITTEE PUBLISHED ITS ANNUAL REPORT.",
    "def f(x):\n    return x ** 2  # square it",
    "",
    "!!! ??? ...",
    "a",
]


def test_matches_py3langid():
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    for text, (language, probability) in zip(TEXTS, identify_many(TEXTS, sample_chars=10_000), strict=True):
        expected_language, expected_probability = reference.classify(text)
        assert language == expected_language, text
        assert probability == pytest.approx(expected_probability, abs=1e-4)


def test_identify_and_keep():
    assert identify(TEXTS[0])[0] == "en"
    assert identify(TEXTS[1])[0] == "fr"
    cfg = LanguageConfig(languages=["en", "de"], min_confidence=0.5)
    assert language_keep(*identify(TEXTS[0]), cfg)
    assert language_keep(*identify(TEXTS[2]), cfg)
    assert not language_keep(*identify(TEXTS[1]), cfg)
    assert not language_keep("en", 0.3, cfg)


def test_texts_scored_together_as_alone():
    """A shard's texts are scanned end to end, separated by a byte no feature holds: no gram crosses them."""
    together = identify_many(TEXTS * 3, sample_chars=10_000)
    assert together == [identify(text, sample_chars=10_000) for text in TEXTS * 3]
