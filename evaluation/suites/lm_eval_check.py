"""lm-evaluation-harness beside our scoring on the multiple-choice benchmarks (MMLU, HellaSwag, TruthfulQA MC1/2).

The same rows (``benchmark_data`` or the fixtures) are scored by our suites' code and by ``lm_eval.simple_evaluate``
on local tasks that read those rows (``benchmarks.lm_eval_tasks``). Per task: our metrics, lm-eval's, the largest
per-choice log-likelihood difference, and whether they agree within tolerance; ``agreement`` is the share of tasks
that agree (1.0: all). The suite runs whatever ``config.lm_eval`` says — checking is its purpose. Without lm-eval it
records ``lm_eval_available = 0`` and why (and our numbers), rather than failing.
"""

from __future__ import annotations

import numpy as np

from ..benchmarks.lm_eval_tasks import lm_eval_status
from . import Example, Metric, SuiteResult, SuiteSpec, hellaswag, mmlu, truthfulqa
from .multiple_choice import accuracy_metrics, choice_loglikelihoods, lm_eval_report, load


def _ours(task: str, items, lls, spec) -> dict[str, float]:
    if task == "truthfulqa_mc1":
        return {"mc1": float(np.mean(truthfulqa.mc1_values(items, lls)))}
    if task == "truthfulqa_mc2":
        return {"mc2": float(np.mean(truthfulqa.mc2_values(items, lls)))}
    metrics, _ = accuracy_metrics(items, lls, seed=spec.config.seed, metadata={})
    return {m.name: m.value for m in metrics}


def run(spec: SuiteSpec) -> SuiteResult:
    available, reason = lm_eval_status()
    data = {fmt: load(spec, fmt) for fmt in ("mmlu", "hellaswag", "truthfulqa")}
    tasks = {
        "mmlu": ("mmlu", [mmlu.to_item(r) for r in data["mmlu"].rows]),
        "hellaswag": ("hellaswag", [hellaswag.to_item(r) for r in data["hellaswag"].rows]),
        "truthfulqa_mc1": ("truthfulqa", truthfulqa.mc1_items(data["truthfulqa"].rows)),
        "truthfulqa_mc2": ("truthfulqa", truthfulqa.mc2_items(data["truthfulqa"].rows)),
    }
    metrics: list[Metric] = []
    examples: list[Example] = []
    agreements = []
    for task, (fmt, items) in tasks.items():
        lls = choice_loglikelihoods(spec, items)
        ours = _ours(task, items, lls, spec)
        source = data[fmt].metadata()
        for name, value in ours.items():
            metrics.append(Metric(f"{task}_{name}"[:64], value, n=len(items), metadata=source))
        if not available:
            continue
        report = lm_eval_report(spec, task, data[fmt].rows, ours, items, lls)
        for metric in report.metrics(Metric):
            metric.name = f"{task}_{metric.name}"[:64]
            metrics.append(metric)
        agreements.append(bool(report.agree))
        examples.append(
            Example(
                input=f"{task} ({len(items)} rows, {source['data']['kind']}: {source['data']['location']})",
                output="ours: " + ", ".join(f"{k}={v:.4f}" for k, v in ours.items()),
                reference="lm-eval: "
                + (", ".join(f"{k}={v:.4f}" for k, v in report.theirs.items()) if report.available else report.reason),
                score=report.max_ll_diff,
                correct=report.agree,
                category=task,
                metadata={"max_ll_diff": report.max_ll_diff, "prompts_match": report.prompts_match},
            )
        )
        spec.ctx.check_cancelled()
    if not available:
        metrics.append(Metric("lm_eval_available", 0.0, metadata={"reason": reason, "lm_eval": "not run"}))
    else:
        metrics.append(
            Metric("agreement", float(np.mean(agreements)), n=len(agreements), metadata={"tasks": list(tasks)})
        )
    return SuiteResult(metrics=metrics, examples=examples)
