"""Config validation names the offending field; bad inputs fail with messages that say what to fix."""

import json
import subprocess
import sys

import pytest

from tests.training.tokenization.conftest import run_tokenizer
from tests.training.tokenization.prepared_dataset import stdlib_documents, write_prepared_dataset
from training.configs import ConfigError, from_dict, json_schema
from training.runners import validate_config
from training.runners.train_tokenizer import TrainTokenizerConfig
from training.tokenization.dataset import DatasetError


def test_minimal_config_defaults_everything_else():
    config = validate_config("train_tokenizer", {"algorithm": "bpe", "vocab_size": 2048})
    assert isinstance(config, TrainTokenizerConfig)
    assert (config.input, config.min_frequency, config.curriculum, config.workers) == ("latest", 2, False, 0)
    assert config.special_tokens() == [
        "<|pad|>",
        "<|bos|>",
        "<|eos|>",
        "<|unk|>",
        "<|system|>",
        "<|user|>",
        "<|assistant|>",
    ]
    schema = json_schema(TrainTokenizerConfig)
    assert all(prop.get("description") for prop in schema["properties"].values())
    assert schema["properties"]["algorithm"]["enum"] == ["bpe", "wordpiece", "unigram"]


def test_config_module_stays_light():
    code = (
        "import sys; import training.runners.train_tokenizer; "
        "print([m for m in ('tokenizers', 'transformers', 'torch', 'numpy', 'pyarrow') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"algorithm": "sentencepiece"}, "algorithm", "must be one of"),
        ({"vocab_size": 200}, "vocab_size", "256-byte alphabet"),
        ({"algorithm": "wordpiece", "vocab_size": 5}, "vocab_size", "special tokens"),
        ({"vocab_size": 10**8}, "vocab_size", "at most"),
        ({"vocab_size": "2048"}, "vocab_size", "expected an integer"),
        ({"min_frequency": 0}, "min_frequency", "at least 1"),
        ({"pad_token": ""}, "pad_token", "non-empty"),
        ({"eos_token": "<|bos|>"}, "eos_token", "must differ"),
        ({"role_tokens": {"user": "<|user|>"}}, "role_tokens", "assistant"),
        ({"role_tokens": {"user": "<|eos|>", "assistant": "<|a|>"}}, "role_tokens", "distinct"),
        ({"chat_template": "{{ messages }}"}, "chat_template", "generation"),
        ({"workers": -1}, "workers", "0"),
        ({"max_train_chars": 0}, "max_train_chars", "at least 1"),
        ({"report_samples": 500}, "report_samples", "between"),
        ({"input": " "}, "input", "dataset"),
    ],
)
def test_invalid_configs_name_their_field(data, field, message):
    with pytest.raises(ConfigError, match=message) as caught:
        from_dict(TrainTokenizerConfig, data)
    assert caught.value.field == field


def test_unknown_field_is_rejected():
    with pytest.raises(ConfigError, match="unknown field"):
        from_dict(TrainTokenizerConfig, {"vocab": 2048})


def test_custom_template_with_generation_markers_is_accepted():
    template = "{% for m in messages %}{% generation %}{{ m['content'] }}{% endgeneration %}{% endfor %}"
    assert from_dict(TrainTokenizerConfig, {"chat_template": template}).chat_template == template
    assert from_dict(TrainTokenizerConfig, {"chat_template": "  "}).chat_template is None


def test_missing_input_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder here"):
        run_tokenizer(tmp_path / "out", {"input": str(tmp_path / "nowhere")})


def test_folder_without_manifest_is_not_a_dataset(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        run_tokenizer(tmp_path / "out", {"input": str(tmp_path / "data")})
    (tmp_path / "data" / "manifest.json").write_text(json.dumps({"format": "something/2"}))
    with pytest.raises(DatasetError, match=r"expected 'plumbline\.dataset/1'"):
        run_tokenizer(tmp_path / "out", {"input": str(tmp_path / "data")})


def test_empty_train_split_is_an_error(tmp_path):
    data = write_prepared_dataset(tmp_path / "data", {"train": [], "validation": ["some text"]})
    with pytest.raises(DatasetError, match=r"train split .* has no documents"):
        run_tokenizer(tmp_path / "out", {"input": str(data)})


def test_vocab_below_the_corpus_alphabet_fails_the_job_with_advice(tmp_path):
    data = write_prepared_dataset(tmp_path / "data", {"train": stdlib_documents()[:100]})
    with pytest.raises(ValueError, match=r"vocab_size 40 is below the alphabet of the corpus.*raise vocab_size"):
        run_tokenizer(tmp_path / "out", {"input": str(data), "algorithm": "unigram", "vocab_size": 40})
    assert not (tmp_path / "out" / "tokenizer").exists()


def test_wordpiece_that_cannot_fit_its_alphabet_is_refused():
    from dataclasses import asdict

    from training.tokenization.trainers import train

    config = asdict(from_dict(TrainTokenizerConfig, {"algorithm": "wordpiece", "vocab_size": 40}))
    with pytest.raises(ValueError, match=r"trainer needed \d+ entries.*raise vocab_size to at least"):
        train(config, stdlib_documents()[:100])
