"""Each benchmark's original row schema, checked row by row so a wrong file fails on its first offending row.

The schemas are those of the datasets as published (and as the Hugging Face copies hold them): a local JSONL or
parquet file in the same schema evaluates exactly like the hub dataset. A checker returns the row with its label
normalized (HellaSwag's label is a string on the hub, MMLU answers are sometimes letters); anything else it leaves.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any


class BenchmarkDataError(ValueError):
    """Benchmark data that cannot be evaluated: the message names the source, the row and the field."""


class RowProblem(ValueError):
    """Raised by a checker; the loader adds where the row came from."""


Row = dict[str, Any]


def _text(row: Row, name: str, *, optional: bool = False, allow_empty: bool = False) -> str:
    if name not in row or row[name] is None:
        if optional:
            return ""
        raise RowProblem(f"field {name!r} is missing")
    value = row[name]
    if not isinstance(value, str):
        raise RowProblem(f"field {name!r} must be a string, not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RowProblem(f"field {name!r} is empty")
    return value


def _texts(row: Row, name: str, *, at_least: int = 1) -> list[str]:
    if name not in row or row[name] is None:
        raise RowProblem(f"field {name!r} is missing")
    value = row[name]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RowProblem(f"field {name!r} must be a list of strings")
    if len(value) < at_least:
        raise RowProblem(f"field {name!r} needs at least {at_least} entries, has {len(value)}")
    return list(value)


def _index(value: Any, n: int, name: str, *, letters: bool = False) -> int:
    if isinstance(value, bool):
        raise RowProblem(f"field {name!r} must be an integer index, not a boolean")
    if isinstance(value, str):
        stripped = value.strip()
        if letters and len(stripped) == 1 and stripped.upper() in string.ascii_uppercase:
            value = string.ascii_uppercase.index(stripped.upper())
        elif stripped.lstrip("-").isdigit():
            value = int(stripped)
    if not isinstance(value, int):
        raise RowProblem(f"field {name!r} must be an integer index{' or a letter' if letters else ''}, got {value!r}")
    if not 0 <= value < n:
        raise RowProblem(f"field {name!r} is {value}, outside the {n} choices")
    return value


def _targets(row: Row, name: str, *, exactly_one_true: bool) -> dict[str, list]:
    targets = row.get(name)
    if not isinstance(targets, dict):
        raise RowProblem(f"field {name!r} is missing" if targets is None else f"field {name!r} must be an object")
    choices = _texts(targets, "choices", at_least=2) if "choices" in targets else None
    if choices is None:
        raise RowProblem(f"field {name!r}.choices is missing")
    labels = targets.get("labels")
    if not isinstance(labels, list | tuple) or any(isinstance(v, bool) or v not in (0, 1) for v in labels):
        raise RowProblem(f"field {name!r}.labels must be a list of 0/1")
    if len(labels) != len(choices):
        raise RowProblem(f"field {name!r} has {len(choices)} choices but {len(labels)} labels")
    trues = sum(labels)
    if exactly_one_true and trues != 1:
        raise RowProblem(f"field {name!r} must mark exactly one choice true (1), marks {trues}")
    if not exactly_one_true and not 0 < trues < len(labels):
        raise RowProblem(f"field {name!r} needs at least one true and one false choice")
    return {"choices": choices, "labels": [int(v) for v in labels]}


def check_mmlu(row: Row) -> Row:
    """question, subject, choices (4 in MMLU; 2-26 accepted), answer (index; a letter is accepted)."""
    _text(row, "question")
    _text(row, "subject", optional=True)
    choices = _texts(row, "choices", at_least=2)
    if len(choices) > 26:
        raise RowProblem("field 'choices' has more than 26 entries (answers are lettered A-Z)")
    if "answer" not in row:
        raise RowProblem("field 'answer' is missing")
    return {**row, "answer": _index(row["answer"], len(choices), "answer", letters=True)}


def check_hellaswag(row: Row) -> Row:
    """ctx (or ctx_a + ctx_b), endings, label; activity_label optional."""
    if "ctx_a" in row or "ctx_b" in row:
        _text(row, "ctx_a", allow_empty=True)
        _text(row, "ctx_b", allow_empty=True)
    else:
        _text(row, "ctx")
    _text(row, "activity_label", optional=True, allow_empty=True)
    endings = _texts(row, "endings", at_least=2)
    if "label" not in row or row["label"] in (None, ""):
        raise RowProblem("field 'label' is missing (unlabelled split? HellaSwag's test split has no labels)")
    return {**row, "label": _index(row["label"], len(endings), "label")}


def check_truthfulqa(row: Row) -> Row:
    """question, mc1_targets and mc2_targets, each {choices, labels}."""
    _text(row, "question")
    mc1 = _targets(row, "mc1_targets", exactly_one_true=True)
    mc2 = _targets(row, "mc2_targets", exactly_one_true=False)
    return {**row, "mc1_targets": mc1, "mc2_targets": mc2}


def check_gsm8k(row: Row) -> Row:
    """question, answer (worked solution ending in '#### <number>')."""
    _text(row, "question")
    answer = _text(row, "answer")
    if "####" not in answer:
        raise RowProblem("field 'answer' has no final answer after '####'")
    return row


def check_math(row: Row) -> Row:
    r"""problem, solution (with the answer in \boxed{...}); level and type optional."""
    _text(row, "problem")
    solution = _text(row, "solution")
    if "\\boxed" not in solution and "\\fbox" not in solution:
        raise RowProblem("field 'solution' has no \\boxed{...} answer")
    _text(row, "level", optional=True)
    _text(row, "type", optional=True)
    return row


def check_humaneval(row: Row) -> Row:
    """task_id, prompt, canonical_solution (optional here), test (defines check), entry_point."""
    _text(row, "task_id")
    _text(row, "prompt")
    _text(row, "canonical_solution", optional=True, allow_empty=True)
    if "def check" not in _text(row, "test"):
        raise RowProblem("field 'test' must define check(candidate)")
    _text(row, "entry_point")
    return row


def check_mbpp(row: Row) -> Row:
    """task_id, text (or 'prompt', as in the sanitized config), code (optional here), test_list, test_setup_code."""
    if "task_id" not in row:
        raise RowProblem("field 'task_id' is missing")
    if "text" in row or "prompt" not in row:
        _text(row, "text")
    else:
        _text(row, "prompt")
    _text(row, "code", optional=True, allow_empty=True)
    _texts(row, "test_list", at_least=1)
    _text(row, "test_setup_code", optional=True, allow_empty=True)
    return row


CHECKERS: dict[str, Callable[[Row], Row]] = {
    "mmlu": check_mmlu,
    "hellaswag": check_hellaswag,
    "truthfulqa": check_truthfulqa,
    "gsm8k": check_gsm8k,
    "math": check_math,
    "humaneval": check_humaneval,
    "mbpp": check_mbpp,
}


def check_rows(fmt: str, rows: list[Row], *, source: str, lines: list[int] | None = None) -> list[Row]:
    """All rows checked (so the first offending row is named even when a limit is set), normalized."""
    checker = CHECKERS[fmt]
    if not rows:
        raise BenchmarkDataError(f"{fmt} data {source} holds no rows (an empty suite evaluates nothing)")
    checked = []
    for i, row in enumerate(rows):
        where = f"row {i}" + (f" (line {lines[i]})" if lines else "")
        if not isinstance(row, dict):
            raise BenchmarkDataError(f"{fmt} data {source}, {where}: a row must be a JSON object")
        try:
            checked.append(checker(row))
        except RowProblem as exc:
            raise BenchmarkDataError(
                f"{fmt} data {source}, {where}: {exc} (expected the original {fmt} schema: {checker.__doc__})"
            ) from None
    return checked
