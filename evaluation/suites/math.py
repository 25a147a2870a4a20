r"""MATH (problem, solution with ``\boxed{...}``, level, type): greedy generation, exact match on the boxed answer.

Prompt ``Problem: ... / Solution:``; the generation's last ``\boxed{...}`` (else a "final answer is ..." phrase) is
compared with the reference's boxed answer after the usual normalization (``benchmarks.answers``). Accuracy per
subject (type) and level is in the metric's metadata; each example's category is its type.
"""

from ..benchmarks.answers import last_boxed, math_equal, math_extract
from ..benchmarks.generation import generate_answers
from ..benchmarks.intervals import bootstrap_mean, by_category
from ..benchmarks.loading import load_benchmark
from . import Example, Metric, SuiteResult, SuiteSpec

STOP = ["Problem:", "</s>", "<|im_end|>"]


def prompt(row: dict) -> str:
    return f"Problem:\n{row['problem'].strip()}\n\nSolution:"


def run(spec: SuiteSpec) -> SuiteResult:
    data = load_benchmark("math", spec.config.benchmark_data.get("math"), limit=spec.config.limit)
    prompts = [prompt(row) for row in data.rows]
    outputs, info = generate_answers(spec, prompts, stop=STOP)
    scores, examples = [], []
    for row, text, generations in zip(data.rows, prompts, outputs, strict=True):
        generation = generations[0].strip()
        reference = last_boxed(row["solution"]) or ""
        answer = math_extract(generation)
        correct = math_equal(answer, reference)
        scores.append(float(correct))
        examples.append(
            Example(
                input=text,
                output=generation,
                reference=reference,
                score=float(correct),
                correct=correct,
                category=row.get("type") or "",
                metadata={"extracted": answer, "level": row.get("level") or "", "solution": row["solution"]},
            )
        )
    mean, low, high = bootstrap_mean(scores, seed=spec.config.seed)
    meta = data.metadata() | {
        "generation": info,
        "by_category": by_category(scores, [row.get("type") or "" for row in data.rows]),
        "by_level": by_category(scores, [row.get("level") or "" for row in data.rows]),
    }
    metric = Metric("exact_match", mean, n=len(scores), ci_low=low, ci_high=high, metadata=meta)
    return SuiteResult(metrics=[metric], examples=examples)
