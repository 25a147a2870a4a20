"""Harmful-content detectors behind one interface: the lexicon one by default, a local HF classifier on request."""

import pytest

from training.corpus.config import HarmfulConfig
from training.corpus.harmful import ClassifierDetector, HarmfulContentDetector, LexiconDetector, build_detector


def test_lexicon_scores_density_of_listed_words():
    detector = build_detector(HarmfulConfig())
    assert isinstance(detector, HarmfulContentDetector)
    clean = "The quarterly report shows steady growth in every region we serve."
    abusive = "you stupid bastard, shut up you piece of shit"
    long_with_one = clean * 20 + " damn"
    scores = detector.score([clean, abusive, long_with_one])
    assert scores[0] == 0.0
    assert scores[1] == 1.0
    assert 0 < scores[2] < 0.5


def test_lexicon_ignores_technical_words_and_matches_phrases():
    detector = LexiconDetector()
    technical = "Use len() and strip() on the dummy value, then kill the process; see :meth:`foobar`."
    assert detector.score([technical]) == [0.0]
    assert LexiconDetector(ignore=()).score([technical])[0] > 0  # the raw list would flag documentation
    assert detector.hits(["a", "blow", "job", "here"]) == 1  # a two-word entry


def test_config_validation():
    from training.configs import ConfigError

    with pytest.raises(ConfigError) as err:
        HarmfulConfig(detector="classifier")
    assert err.value.field == "model_path"


@pytest.mark.train
def test_classifier_detector_with_a_local_model(tmp_path):
    pytest.importorskip("transformers")
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from tests.tiny_lm import build_tokenizer

    tokenizer = build_tokenizer(tmp_path)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id, num_labels=2,
        id2label={0: "ok", 1: "toxic"}, label2id={"ok": 0, "toxic": 1},
    )  # fmt: skip
    LlamaForSequenceClassification(config).save_pretrained(tmp_path)
    detector = build_detector(HarmfulConfig(detector="classifier", model_path=str(tmp_path), harmful_labels=["toxic"]))
    assert isinstance(detector, ClassifierDetector)
    scores = detector.score(["first text", "a second, longer text to score", "third"])
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    # the score is the probability of the harmful label: with every label harmful it is 1
    everything = ClassifierDetector(str(tmp_path), ["ok", "toxic"])
    assert everything.score(["x"]) == [pytest.approx(1.0)]


def test_phrase_hits_count_every_occurrence():
    import random

    detector = LexiconDetector()
    phrases = sorted(detector.phrases)
    words = [*sorted({w for p in phrases for w in p}), "and", "the", "x", "2"]

    def naive(tokens: list[str]) -> int:
        hits = sum(1 for t in tokens if t in detector.words)
        for i in range(len(tokens)):
            hits += sum(1 for p in phrases if tuple(tokens[i : i + len(p)]) == p)
        return hits

    rng = random.Random(11)
    for _ in range(2000):
        tokens = [rng.choice(words) for _ in range(rng.randint(0, 30))]
        assert detector.hits(tokens) == naive(tokens)
        assert detector.hits(tokens, set(tokens)) == naive(tokens)
