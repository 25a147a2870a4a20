"""TruthfulQA multiple choice: MC1 (one true answer among the choices) and MC2 (mass on the true answers).

Zero-shot ``Q: question / A:`` prompt; each answer is scored as a continuation. MC1 is right when the single true
answer has the highest log-likelihood; MC2 is the probability of the true answers, the answers' likelihoods
renormalized over the question's answer set (Lin et al., 2021). lm-eval's own TruthfulQA tasks prepend a fixed
six-question prompt; our local lm-eval tasks use this zero-shot prompt so the two runs score the same text.
"""

import numpy as np

from ..benchmarks.intervals import bootstrap_mean
from . import Example, Metric, SuiteResult, SuiteSpec
from .multiple_choice import ChoiceItem, choice_loglikelihoods, lm_eval_metrics, load, mc2_score, predictions


def prompt(row: dict) -> str:
    return f"Q: {row['question'].strip()}\nA:"


def mc1_items(rows: list[dict]) -> list[ChoiceItem]:
    return [ChoiceItem(prompt(r), r["mc1_targets"]["choices"], r["mc1_targets"]["labels"].index(1)) for r in rows]


def mc2_items(rows: list[dict]) -> list[ChoiceItem]:
    return [ChoiceItem(prompt(r), r["mc2_targets"]["choices"], 0, labels=r["mc2_targets"]["labels"]) for r in rows]


def mc1_values(items: list[ChoiceItem], lls: list[list[float]]) -> list[float]:
    return [float(predictions(ll, item.choices)[0] == item.gold) for item, ll in zip(items, lls, strict=True)]


def mc2_values(items: list[ChoiceItem], lls: list[list[float]]) -> list[float]:
    return [mc2_score(ll, item.labels) for item, ll in zip(items, lls, strict=True)]


def run(spec: SuiteSpec) -> SuiteResult:
    data = load(spec, "truthfulqa")
    mc1, mc2 = mc1_items(data.rows), mc2_items(data.rows)
    lls = choice_loglikelihoods(spec, mc1 + mc2)
    lls1, lls2 = lls[: len(mc1)], lls[len(mc1) :]
    right, mass = mc1_values(mc1, lls1), mc2_values(mc2, lls2)
    meta = data.metadata()
    metrics = []
    for name, values in (("mc1", right), ("mc2", mass)):
        mean, low, high = bootstrap_mean(values, seed=spec.config.seed)
        metrics.append(Metric(name, mean, n=len(values), ci_low=low, ci_high=high, metadata=meta))
    metrics += lm_eval_metrics(spec, "truthfulqa_mc1", data, {"mc1": metrics[0].value}, mc1, lls1)
    metrics += lm_eval_metrics(spec, "truthfulqa_mc2", data, {"mc2": metrics[1].value}, mc2, lls2)
    examples = []
    for item, item2, ll1, ll2, ok, m2 in zip(mc1, mc2, lls1, lls2, right, mass, strict=True):
        pred = int(np.argmax(ll1))
        examples.append(
            Example(
                input=item.context,
                output=item.choices[pred],
                reference=item.choices[item.gold],
                score=m2,
                correct=bool(ok),
                metadata={
                    "mc1_choices": item.choices,
                    "mc1_loglikelihoods": [round(v, 5) for v in ll1],
                    "mc2_choices": item2.choices,
                    "mc2_labels": item2.labels,
                    "mc2_loglikelihoods": [round(v, 5) for v in ll2],
                    "mc2": m2,
                },
            )
        )
    return SuiteResult(metrics=metrics, examples=examples)
