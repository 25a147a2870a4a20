"""pass@k for code benchmarks: n completions per problem, each run against the problem's tests in the sandbox.

With one sample per problem the completion is greedy; with more they are sampled (temperature 0.8, top-p 0.95:
the setting Chen et al. used for pass@10 and above) and pass@k is estimated without bias from the n samples
(``passk``). Everything a program does wrong — failing tests, crashing, hanging, forking, allocating without bound,
opening sockets — scores as not passed; the status counts and per-sample reasons are kept for the viewer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..sandbox import SandboxLimits, probe_isolation, run_programs
from ..suites import Example, Metric, SuiteResult
from .generation import generate_answers, storable
from .intervals import bootstrap_mean
from .loading import BenchmarkData
from .passk import pass_at_k

SAMPLING_TEMPERATURE = 0.8
CHUNK = 64  # programs between cancellation checks


@dataclass
class CodeProblem:
    task_id: str
    prompt: str
    program: Callable[[str], str]  # completion -> the program that runs it against the tests
    reference: str = ""


def run_code_suite(spec, data: BenchmarkData, problems: list[CodeProblem], *, stop: list[str]) -> SuiteResult:
    config = spec.config
    n = config.samples_per_problem
    temperature = SAMPLING_TEMPERATURE if n > 1 else 0.0
    outputs, info = generate_answers(spec, [p.prompt for p in problems], stop=stop, samples=n, temperature=temperature)
    programs = [p.program(completion) for p, group in zip(problems, outputs, strict=True) for completion in group]
    limits = SandboxLimits(cpu_seconds=config.sandbox_timeout_seconds, memory_mb=config.sandbox_memory_mb)
    results = []
    for start in range(0, len(programs), CHUNK):
        results += run_programs(programs[start : start + CHUNK], limits=limits)
        spec.ctx.check_cancelled()
    counts, examples, statuses = [], [], Counter(r.status for r in results)
    for i, (problem, group) in enumerate(zip(problems, outputs, strict=True)):
        mine = results[i * n : (i + 1) * n]
        passed = sum(r.passed for r in mine)
        counts.append((n, passed))
        examples.append(
            Example(
                input=problem.prompt,
                output=group[0],
                reference=problem.reference,
                score=passed / n,
                correct=passed > 0,
                metadata={
                    "task_id": problem.task_id,
                    "passed": passed,
                    "samples": [
                        {"completion": c[:2000], "status": r.status, "reason": storable(r.reason), "seconds": r.seconds}
                        for c, r in zip(group, mine, strict=True)
                    ],
                },
            )
        )
    meta = data.metadata() | {
        "generation": info,
        "sandbox": {
            "limits": {"cpu_seconds": limits.cpu_seconds, "wall_seconds": limits.wall, "memory_mb": limits.memory_mb},
            "isolation": probe_isolation().describe(),
            "statuses": dict(statuses),
        },
    }
    metrics = []
    for k in sorted(set(config.pass_k)):
        if k > n:
            continue
        mean, low, high = bootstrap_mean([pass_at_k(n_, c, k) for n_, c in counts], seed=config.seed)
        metrics.append(Metric(f"pass@{k}", mean, n=len(counts), ci_low=low, ci_high=high, metadata=meta))
    return SuiteResult(metrics=metrics, examples=examples)
