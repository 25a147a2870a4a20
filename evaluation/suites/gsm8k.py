"""GSM8K (question, answer ending in ``#### N``): greedy generation, exact match on the final number.

Zero-shot ``Question: ... / Answer:`` prompt (lm-evaluation-harness's format), generation stops at the next
``Question:``. ``exact_match`` takes the generation's ``#### N`` if it writes one, else its last number (lm-eval's
"flexible-extract"); ``exact_match_strict`` counts only answers given as ``#### N``. Numbers compare as numbers.
"""

from ..benchmarks.answers import gsm8k_extract, gsm8k_reference
from ..benchmarks.generation import generate_answers
from ..benchmarks.intervals import bootstrap_mean
from ..benchmarks.loading import load_benchmark
from . import Example, Metric, SuiteResult, SuiteSpec

STOP = ["Question:", "</s>", "<|im_end|>"]


def prompt(row: dict) -> str:
    return f"Question: {row['question'].strip()}\nAnswer:"


def run(spec: SuiteSpec) -> SuiteResult:
    data = load_benchmark("gsm8k", spec.config.benchmark_data.get("gsm8k"), limit=spec.config.limit)
    prompts = [prompt(row) for row in data.rows]
    outputs, info = generate_answers(spec, prompts, stop=STOP)
    flexible, strict, examples = [], [], []
    for row, text, generations in zip(data.rows, prompts, outputs, strict=True):
        generation = generations[0].strip()
        reference = gsm8k_reference(row["answer"])
        answer, was_strict = gsm8k_extract(generation)
        flexible.append(float(answer == reference))
        strict.append(float(was_strict and answer == reference))
        examples.append(
            Example(
                input=text,
                output=generation,
                reference=reference,
                score=flexible[-1],
                correct=answer == reference,
                metadata={"extracted": answer, "strict_format": was_strict, "solution": row["answer"]},
            )
        )
    meta = data.metadata() | {"generation": info}
    metrics = []
    for name, values in (("exact_match", flexible), ("exact_match_strict", strict)):
        mean, low, high = bootstrap_mean(values, seed=spec.config.seed)
        metrics.append(Metric(name, mean, n=len(values), ci_low=low, ci_high=high, metadata=meta))
    return SuiteResult(metrics=metrics, examples=examples)
