"""HellaSwag (ctx / ctx_a + ctx_b, endings, label): which ending continues the context, by log-likelihood.

The context is ``activity_label: ctx_a Ctx_b`` and endings are cleaned of WikiHow markup exactly as
lm-evaluation-harness does (``benchmarks.lm_eval_hooks``, shared with the lm-eval task). acc_norm (log-likelihood
per character of the ending) is the number usually reported for HellaSwag.
"""

from ..benchmarks.lm_eval_hooks import hellaswag_clean, hellaswag_query
from . import SuiteResult, SuiteSpec
from .multiple_choice import ChoiceItem, run_choice_suite


def to_item(row: dict) -> ChoiceItem:
    return ChoiceItem(
        context=hellaswag_query(row),
        choices=[hellaswag_clean(ending) for ending in row["endings"]],
        gold=row["label"],
        category=row.get("activity_label") or "",
        meta={"source_id": row.get("source_id"), "split_type": row.get("split_type")},
    )


def run(spec: SuiteSpec) -> SuiteResult:
    return run_choice_suite(spec, "hellaswag", to_item, "hellaswag")
