"""Evaluation suites: each a module with ``run(spec: SuiteSpec) -> SuiteResult``, imported lazily (torch inside)."""

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUITES: dict[str, str] = {
    "perplexity": "evaluation.suites.perplexity",
    "rm_accuracy": "evaluation.suites.rm_accuracy",
    "win_rate": "evaluation.suites.win_rate",
    "human_win_rate": "evaluation.suites.human_win_rate",
    "redteam": "evaluation.suites.redteam",
    "reference": "evaluation.suites.reference",
    "mmlu": "evaluation.suites.mmlu",
    "hellaswag": "evaluation.suites.hellaswag",
    "truthfulqa": "evaluation.suites.truthfulqa",
    "gsm8k": "evaluation.suites.gsm8k",
    "math": "evaluation.suites.math",
    "humaneval": "evaluation.suites.humaneval",
    "mbpp": "evaluation.suites.mbpp",
    "lm_eval_check": "evaluation.suites.lm_eval_check",
}


@dataclass
class Metric:
    name: str
    value: float
    n: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    higher_is_better: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Example:
    input: str
    output: str = ""
    reference: str = ""
    score: float | None = None
    correct: bool | None = None
    category: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteResult:
    metrics: list[Metric]
    examples: list[Example] = field(default_factory=list)
    waiting: bool = False  # human judgments still to come (the run stays open and fills in as they arrive)
    annotation_project_id: int | None = None


@dataclass
class SuiteSpec:
    """What a suite gets: the config, resolved input paths, the loaded model (lazily), and the runner context."""

    name: str
    config: Any
    ctx: Any
    model_path: Path
    inputs: dict[str, Path]
    run_id: int
    _model: Any = None

    @property
    def model(self):
        """(model, tokenizer), loaded once and shared by every suite of the job."""
        if self._model is None:
            from ..model_io import load_causal_lm

            self._model = load_causal_lm(self.model_path)
        return self._model


def load_suite(name: str):
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known: {sorted(SUITES)}")
    return importlib.import_module(SUITES[name])
