import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.training.tokenization.prepared_dataset import standard_splits, stdlib_documents, write_prepared_dataset
from training.configs import from_dict
from training.runners.base import RunResult
from training.runners.cli import LocalContext
from training.runners.train_tokenizer import TrainTokenizerConfig, run

pytest.importorskip("tokenizers", reason="needs the train extra (pip install -e .[train])")


@dataclass
class Run:
    folder: Path
    result: RunResult
    ctx: LocalContext

    @property
    def report(self) -> dict[str, Any]:
        return self.ctx.reports["tokenizer_report"]


def run_tokenizer(folder: Path, config: dict[str, Any], *, ctx: LocalContext | None = None) -> Run:
    ctx = ctx or LocalContext(folder, show_progress=False)
    try:
        result = run(from_dict(TrainTokenizerConfig, config), ctx)
    finally:
        ctx.close()
    return Run(folder, result, ctx)


@pytest.fixture(scope="session")
def prepared_dataset(tmp_path_factory) -> Path:
    """Three splits of standard-library docstrings in 100-document shards (train has several shards)."""
    return write_prepared_dataset(tmp_path_factory.mktemp("dataset"), standard_splits(stdlib_documents()))


# one algorithm's session run skips the token shards, so the tokenizer-only path is covered without another run
TOKENIZER_ONLY = {"write_token_shards": False}


@pytest.fixture(scope="session")
def trained(tmp_path_factory, prepared_dataset):
    """``trained(**config)`` runs the runner once per distinct config for the whole session."""
    cache: dict[str, Run] = {}

    def get(**config: Any) -> Run:
        extra = TOKENIZER_ONLY if config.get("algorithm") == "wordpiece" else {}
        config = {"vocab_size": 1024, **extra, **config, "input": str(prepared_dataset)}
        key = json.dumps(config, sort_keys=True)
        if key not in cache:
            cache[key] = run_tokenizer(tmp_path_factory.mktemp("run"), config)
        return cache[key]

    return get


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
