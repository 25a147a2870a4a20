"""The tokenizer report is measured on the validation split, and compare_reports lines several up."""

import copy

import pytest

from tests.training.tokenization.test_token_shards import split_documents
from training.tokenization.report import REPORT_FORMAT, compare_reports


def test_report_measures_the_validation_split(trained, prepared_dataset):
    from transformers import AutoTokenizer

    run = trained(algorithm="bpe")
    report = run.report
    tokenizer = AutoTokenizer.from_pretrained(run.folder / "tokenizer")
    texts = [t for t, _ in split_documents(prepared_dataset, "validation")]
    tokens = sum(len(tokenizer(t).input_ids) for t in texts)
    chars = sum(len(t) for t in texts)
    evaluation = report["evaluation"]
    assert report["format"] == REPORT_FORMAT
    assert evaluation["split"] == "validation"
    assert (evaluation["documents"], evaluation["tokens"], evaluation["chars"]) == (len(texts), tokens, chars)
    assert evaluation["chars_per_token"] == pytest.approx(chars / tokens, abs=1e-5)
    assert evaluation["bytes_per_token"] == pytest.approx(sum(len(t.encode()) for t in texts) / tokens, abs=1e-5)
    assert evaluation["unk_rate"] == 0.0
    used = {i for t in texts for i in tokenizer(t).input_ids}
    assert evaluation["vocab_used"] == len(used)
    assert evaluation["vocab_usage"] == pytest.approx(len(used) / len(tokenizer), abs=1e-5)
    assert report["top_tokens"][0]["count"] >= report["top_tokens"][-1]["count"]
    assert len(report["samples"]) == 5
    for sample, text in zip(report["samples"], texts, strict=False):
        assert text.startswith(sample["text"])
        assert sample["n_tokens"] == len(sample["tokens"])
        if sample["text"].isascii():
            assert "".join(sample["tokens"]) == sample["text"]
    assert report["tokenizer"]["special_token_ids"]["<|assistant|>"] == 6
    metric_names = {name for _, name, _ in run.ctx.metric_points}
    assert {"chars_per_token", "bytes_per_token", "unk_rate", "vocab_usage", "tokens"} <= metric_names


def test_unknown_rate_is_counted_for_tokenizers_that_have_unknowns(trained):
    for algorithm in ("wordpiece", "unigram"):
        run = trained(algorithm=algorithm)
        evaluation = run.report["evaluation"]
        assert 0 <= evaluation["unk_tokens"] <= evaluation["tokens"]
        assert evaluation["unk_rate"] == pytest.approx(evaluation["unk_tokens"] / evaluation["tokens"], abs=1e-5)
        assert run.result.summary["unk_rate"] == evaluation["unk_rate"]


def test_compare_reports_of_tokenizers_trained_on_the_same_data(trained):
    reports = {a: trained(algorithm=a).report for a in ("bpe", "wordpiece", "unigram")}
    table = compare_reports(reports)
    assert [row["label"] for row in table["rows"]] == ["bpe", "wordpiece", "unigram"]
    assert table["same_data"] is True and table["warnings"] == []
    best_cpt = max(r["evaluation"]["chars_per_token"] for r in reports.values())
    for row in table["rows"]:
        assert row["values"]["chars_per_token"] == reports[row["label"]]["evaluation"]["chars_per_token"]
        assert ("chars_per_token" in row["best"]) == (row["values"]["chars_per_token"] == best_cpt)
    assert "unk_rate" in table["rows"][0]["best"]  # byte-level BPE never emits unknowns
    assert {c["key"] for c in table["columns"]} >= {"chars_per_token", "bytes_per_token", "unk_rate", "vocab_usage"}
    assert len(table["samples"]) == 5
    for sample in table["samples"]:
        assert [t["label"] for t in sample["tokenizations"]] == ["bpe", "wordpiece", "unigram"]


def test_compare_reports_warns_when_data_differ_and_accepts_lists():
    base = {
        "format": REPORT_FORMAT,
        "tokenizer": {"algorithm": "bpe", "vocab_size": 100},
        "dataset": {"fingerprint": "aaa"},
        "training": {"seconds": 1.0},
        "evaluation": {"split": "validation", "chars_per_token": 3.0, "unk_rate": 0.0, "tokens": 10},
        "samples": [{"id": "d1", "text": "ab", "tokens": ["a", "b"], "n_tokens": 2}],
    }
    other = copy.deepcopy(base)
    other["dataset"]["fingerprint"] = "bbb"
    other["tokenizer"]["vocab_size"] = 200
    other["evaluation"]["chars_per_token"] = 4.0
    other["evaluation"]["tokens"] = 8
    other["samples"][0] = {"id": "d1", "text": "ab", "tokens": ["ab"], "n_tokens": 1}
    table = compare_reports([base, other])
    assert [r["label"] for r in table["rows"]] == ["bpe 100", "bpe 200"]
    assert table["same_data"] is False and table["warnings"]
    assert table["rows"][1]["best"] == ["chars_per_token", "unk_rate", "tokens"]
    assert table["rows"][0]["best"] == ["unk_rate"]  # ties are best for both
    assert table["samples"][0]["tokenizations"][1]["tokens"] == ["ab"]
    assert compare_reports([("mine", base)])["rows"][0]["label"] == "mine"
    assert compare_reports([])["rows"] == []
    with pytest.raises(TypeError, match="several reports"):
        compare_reports(base)
