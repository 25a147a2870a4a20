"""MBPP (task_id, text, code, test_list, test_setup_code): pass@k of programs written from a description.

Zero-shot prompt in the format of Austin et al. (2021), as lm-evaluation-harness uses it: the task, its tests, and
``[BEGIN]``; generation stops at ``[DONE]``. Each program runs as ``test_setup_code + program + test_list`` in the
sandbox (``evaluation.sandbox``).
"""

from ..benchmarks.code_tasks import CodeProblem, run_code_suite
from ..benchmarks.loading import load_benchmark
from . import SuiteResult, SuiteSpec

STOP = ["[DONE]"]


def prompt(row: dict) -> str:
    task = (row.get("text") or row.get("prompt") or "").strip()
    tests = "\n".join(row["test_list"])
    return (
        f"You are an expert Python programmer, and here is your task: {task} "
        f"Your code should pass these tests:\n\n{tests}\n[BEGIN]\n"
    )


def program(row: dict, completion: str) -> str:
    setup = row.get("test_setup_code") or ""
    return f"{setup}\n{completion}\n\n" + "\n".join(row["test_list"]) + "\n"


def run(spec: SuiteSpec) -> SuiteResult:
    data = load_benchmark("mbpp", spec.config.benchmark_data.get("mbpp"), limit=spec.config.limit)
    problems = [
        CodeProblem(
            str(row["task_id"]),
            prompt(row),
            lambda completion, row=row: program(row, completion),
            row.get("code") or "",
        )
        for row in data.rows
    ]
    return run_code_suite(spec, data, problems, stop=STOP)
