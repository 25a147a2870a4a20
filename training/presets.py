"""Named starting configs per job kind, offered by the admin's launch form.

A preset holds only the keys that differ from the config's defaults: the form shows every other field at its
default, and a preset never goes stale when a field is added. Each preset is checked against its kind's config
class by the tests, so a renamed field breaks the build, not the form.
"""

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "prepare_corpus": {
        "pydocs (demo)": {"sources": [{"type": "pydocs"}]},
        "local folder": {
            "sources": [{"type": "files", "path": "/data/corpus", "formats": ["txt", "md", "jsonl", "parquet"]}]
        },
        "HF dataset": {
            "sources": [{"type": "hf", "dataset": "wikitext", "dataset_config": "wikitext-2-raw-v1", "split": "train"}]
        },
    },
    "train_tokenizer": {
        "BPE 2k (tests)": {"algorithm": "bpe", "vocab_size": 2048},
        "BPE 32k": {"algorithm": "bpe", "vocab_size": 32000},
        "Unigram 16k": {"algorithm": "unigram", "vocab_size": 16000},
    },
    "pretrain": {
        "tiny (tests)": {"preset": "tiny", "max_steps": 20, "eval_every": 10, "checkpoint_every": 10},
        "small (CPU demo)": {"preset": "small", "max_steps": 200},
        "125m (GPU)": {"preset": "125m", "max_steps": 20000, "seq_len": 1024, "global_batch_tokens": 524288},
    },
}


def presets_for(kind: str) -> dict[str, dict[str, Any]]:
    return PRESETS.get(kind, {})
