"""Multiple-choice scoring by log-likelihood, shared by MMLU, HellaSwag and TruthfulQA (lm-evaluation-harness style).

Each choice is scored as a continuation of the question's context: the sum of its tokens' log-probabilities
(``model_io.continuation_logprobs``, which splits context and continuation the way lm-eval does). Then
- ``acc``: the highest log-likelihood is the prediction;
- ``acc_norm``: the highest log-likelihood per character of the choice (lm-eval's ``acc_norm``: it divides by
  ``len(choice)``, the choice without the leading space; its docs call this byte-length normalization and for ASCII
  text the two are the same); the byte-normalized variant (lm-eval's ``acc_bytes``) rides in the metadata;
- MC2 (TruthfulQA): the probability mass of the true answers among all answers, each answer's probability being
  exp(log-likelihood) renormalized over the question's answers.

When ``config.lm_eval`` is on and lm-evaluation-harness is importable, the same rows also run through
``lm_eval.simple_evaluate`` on a local task (``evaluation.benchmarks.lm_eval_tasks``) and its numbers are recorded
beside ours, with how far they are apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..benchmarks.intervals import bootstrap_mean, by_category
from ..benchmarks.loading import BenchmarkData, load_benchmark
from . import Example, Metric, SuiteResult, SuiteSpec


@dataclass
class ChoiceItem:
    context: str
    choices: list[str]  # continuations without the delimiter (lm-eval's doc_to_choice)
    gold: int
    category: str = ""
    labels: list[int] | None = None  # MC2: 1 for each true answer
    delimiter: str = " "  # lm-eval's target_delimiter, put between context and choice
    shown: list[str] | None = None  # how the viewer shows each choice (MMLU: "B. 12" for the scored " B")
    meta: dict[str, Any] = field(default_factory=dict)


def choice_loglikelihoods(spec: SuiteSpec, items: list[ChoiceItem]) -> list[list[float]]:
    """Per item, the log-likelihood of each choice (one batched pass over every (context, choice) pair)."""
    from ..model_io import continuation_logprobs

    model, tokenizer = spec.model
    pairs = [(item.context, item.delimiter + choice) for item in items for choice in item.choices]
    scored = continuation_logprobs(model, tokenizer, pairs, batch_size=spec.config.batch_size)
    out, i = [], 0
    for item in items:
        out.append([lp for lp, _, _ in scored[i : i + len(item.choices)]])
        i += len(item.choices)
    spec.ctx.check_cancelled()
    return out


def predictions(lls: list[float], choices: list[str]) -> tuple[int, int, int]:
    """(argmax of ll, of ll per character, of ll per UTF-8 byte) — lm-eval's acc / acc_norm / acc_bytes."""
    arr = np.asarray(lls, dtype=float)
    chars = np.asarray([max(1, len(c)) for c in choices], dtype=float)
    nbytes = np.asarray([max(1, len(c.encode("utf-8"))) for c in choices], dtype=float)
    return int(arr.argmax()), int((arr / chars).argmax()), int((arr / nbytes).argmax())


def choice_probabilities(lls: list[float]) -> np.ndarray:
    """exp(ll) renormalized over the choices, computed stably (log-likelihoods of long answers underflow exp)."""
    arr = np.asarray(lls, dtype=float)
    weights = np.exp(arr - arr.max())
    return weights / weights.sum()


def mc2_score(lls: list[float], labels: list[int]) -> float:
    return float(choice_probabilities(lls)[np.asarray(labels, dtype=bool)].sum())


def accuracy_metrics(
    items: list[ChoiceItem], lls: list[list[float]], *, prefix: str = "", seed: int = 0, metadata: dict
) -> tuple[list[Metric], list[dict[str, Any]]]:
    """acc and acc_norm (with bootstrap intervals and a per-category breakdown) and per-item outcomes."""
    outcomes = []
    for item, item_lls in zip(items, lls, strict=True):
        pred, pred_norm, pred_bytes = predictions(item_lls, item.choices)
        outcomes.append(
            {
                "pred": pred,
                "pred_norm": pred_norm,
                "acc": float(pred == item.gold),
                "acc_norm": float(pred_norm == item.gold),
                "acc_bytes": float(pred_bytes == item.gold),
                "gold_probability": float(choice_probabilities(item_lls)[item.gold]),
            }
        )
    categories = [item.category for item in items]
    metrics = []
    for name in ("acc", "acc_norm"):
        values = [o[name] for o in outcomes]
        mean, low, high = bootstrap_mean(values, seed=seed)
        extra: dict[str, Any] = {"by_category": by_category(values, categories)}
        if name == "acc_norm":
            extra["acc_bytes"] = float(np.mean([o["acc_bytes"] for o in outcomes]))
            extra["normalization"] = "log-likelihood / characters of the choice (lm-eval acc_norm)"
        metrics.append(Metric(prefix + name, mean, n=len(values), ci_low=low, ci_high=high, metadata=metadata | extra))
    return metrics, outcomes


def choice_examples(items: list[ChoiceItem], lls: list[list[float]], outcomes: list[dict]) -> list[Example]:
    examples = []
    for item, item_lls, outcome in zip(items, lls, outcomes, strict=True):
        shown = item.shown or item.choices
        examples.append(
            Example(
                input=item.context,
                output=shown[outcome["pred"]],
                reference=shown[item.gold],
                score=outcome["gold_probability"],
                correct=bool(outcome["acc"]),
                category=item.category,
                metadata={
                    "choices": item.choices,
                    "loglikelihoods": [round(v, 5) for v in item_lls],
                    "gold": item.gold,
                    "pred": outcome["pred"],
                    "pred_norm": outcome["pred_norm"],
                    "correct_norm": bool(outcome["acc_norm"]),
                    **item.meta,
                },
            )
        )
    return examples


def load(spec: SuiteSpec, fmt: str) -> BenchmarkData:
    return load_benchmark(fmt, spec.config.benchmark_data.get(fmt), limit=spec.config.limit)


def lm_eval_metrics(
    spec: SuiteSpec,
    task: str,
    data: BenchmarkData,
    ours: dict[str, float],
    items: list[ChoiceItem],
    our_lls: list[list[float]],
) -> list[Metric]:
    """lm-eval's numbers beside ours when asked for; when it cannot run, one metric whose metadata says why."""
    if not spec.config.lm_eval:
        return []
    return lm_eval_report(spec, task, data.rows, ours, items, our_lls).metrics(Metric)


def lm_eval_report(
    spec: SuiteSpec,
    task: str,
    rows: list[dict],
    ours: dict[str, float],
    items: list[ChoiceItem],
    our_lls: list[list[float]],
):
    """Run lm-evaluation-harness on the same rows and compare with our figures and log-likelihoods (logged)."""
    from ..benchmarks.lm_eval_tasks import cross_check

    report = cross_check(
        task,
        rows,
        model_path=spec.model_path,
        folder=spec.ctx.folder,
        batch_size=spec.config.batch_size,
        ours=ours,
        our_lls=our_lls,
        our_pairs=[[(item.context, item.delimiter + c) for c in item.choices] for item in items],
    )
    spec.ctx.log(f"lm-eval cross-check {task}: {report.summary()}")
    return report


def run_choice_suite(spec: SuiteSpec, fmt: str, to_item, lm_eval_task: str | None) -> SuiteResult:
    """MMLU and HellaSwag: load, score every choice, acc / acc_norm, per-example rows, optional lm-eval check."""
    data = load(spec, fmt)
    items = [to_item(row) for row in data.rows]
    lls = choice_loglikelihoods(spec, items)
    metrics, outcomes = accuracy_metrics(items, lls, seed=spec.config.seed, metadata=data.metadata())
    if lm_eval_task:
        ours = {m.name: m.value for m in metrics}
        metrics += lm_eval_metrics(spec, lm_eval_task, data, ours, items, lls)
    return SuiteResult(metrics=metrics, examples=choice_examples(items, lls, outcomes))
