"""MMLU-style multiple choice (question, subject, choices, answer) by log-likelihood of the answer letter.

The prompt is lm-evaluation-harness's zero-shot MMLU format: a line naming the subject, the question, the lettered
choices and ``Answer:``; each letter (" A", " B", ...) is scored as the continuation. Letters have equal length, so
acc_norm equals acc here (as in lm-eval). Per-subject accuracy is in the metrics' metadata.
"""

from ..benchmarks.lm_eval_tasks import LETTERS
from . import SuiteResult, SuiteSpec
from .multiple_choice import ChoiceItem, run_choice_suite


def prompt(row: dict) -> str:
    subject = (row.get("subject") or "").strip()
    header = f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n"
    lines = "".join(f"{LETTERS[i]}. {choice}\n" for i, choice in enumerate(row["choices"]))
    return (header if subject else "") + f"{row['question'].strip()}\n{lines}Answer:"


def to_item(row: dict) -> ChoiceItem:
    return ChoiceItem(
        context=prompt(row),
        choices=list(LETTERS[: len(row["choices"])]),
        gold=row["answer"],
        category=row.get("subject") or "",
        shown=[f"{LETTERS[i]}. {choice}" for i, choice in enumerate(row["choices"])],
    )


def run(spec: SuiteSpec) -> SuiteResult:
    return run_choice_suite(spec, "mmlu", to_item, "mmlu")
