"""HumanEval (task_id, prompt, canonical_solution, test, entry_point): pass@k of completed function bodies.

The model continues the prompt (signature and docstring); generation stops where a new top-level block would
start (Chen et al.'s stop sequences). Each completion runs as ``prompt + completion + test + check(entry_point)``
in the sandbox (``evaluation.sandbox``).
"""

from ..benchmarks.code_tasks import CodeProblem, run_code_suite
from ..benchmarks.loading import load_benchmark
from . import SuiteResult, SuiteSpec

STOP = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]


def program(row: dict, completion: str) -> str:
    return f"{row['prompt']}{completion}\n\n{row['test']}\n\ncheck({row['entry_point']})\n"


def run(spec: SuiteSpec) -> SuiteResult:
    data = load_benchmark("humaneval", spec.config.benchmark_data.get("humaneval"), limit=spec.config.limit)
    problems = [
        CodeProblem(
            str(row["task_id"]),
            row["prompt"],
            lambda completion, row=row: program(row, completion),
            row.get("canonical_solution") or "",
        )
        for row in data.rows
    ]
    return run_code_suite(spec, data, problems, stop=STOP)
