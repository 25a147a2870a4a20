"""``evaluate``: run evaluation suites on a model version; results are stored per model version, suite and metric.

Each suite's results are written in one transaction when the suite ends (nothing half-recorded); a suite that fails
marks its run failed with the reason and the job fails after the remaining suites ran.
"""

from dataclasses import dataclass

from training.configs import ConfigError, field
from training.runners.base import RunResult


@dataclass
class EvaluateConfig:
    """Evaluate a model version on one or more suites."""

    model: str = field("latest", help="the model version to evaluate", artifact="model|adapter")
    suites: list[str] = field(default_factory=lambda: ["perplexity"], help="suites to run (see the docs for names)")
    baseline: str = field("", help="win rates: the model version to compare against", artifact="model|adapter")
    reward_model: str = field("", help="reward-model accuracy / RM-judged win rate: the reward model", artifact="model")
    preferences: str = field(
        "",
        help="reward-model accuracy: held-out preference pairs ('latest' or 'snapshot:<id>')",
        artifact="snapshot:preferences",
    )
    demonstrations: str = field(
        "", help="BLEU/ROUGE: accepted demonstrations ('latest' or 'snapshot:<id>')", artifact="snapshot:sft"
    )
    token_shards: str = field("", help="perplexity: token shards with a held-out split", artifact="token_shards")
    split: str = field("test", help="held-out split for perplexity and reference metrics (falls back to validation)")
    benchmark_data: dict[str, str] = field(
        default_factory=dict, help="suite -> local JSONL/parquet path or Hugging Face dataset name"
    )
    limit: int = field(0, help="at most this many examples per suite (0: all)")
    max_new_tokens: int = field(256, help="generation suites: longest answer")
    pass_k: list[int] = field(default_factory=lambda: [1, 10], help="code suites: k values of pass@k")
    samples_per_problem: int = field(10, help="code suites: samples per problem (n >= max k)")
    sandbox_timeout_seconds: float = field(10.0, help="code suites: CPU-time limit per program")
    sandbox_memory_mb: int = field(512, help="code suites: address-space limit per program")
    human_project: int | None = field(None, help="human win rate / red-team: annotation project for the tasks")
    redteam_suite: str = field("builtin", help="red-team prompts: 'builtin' or a JSONL path")
    redteam_classifier: str = field("", help="red-team: an HF text-classification model path judging harm")
    lm_eval: bool = field(True, help="multiple-choice suites: also run lm-evaluation-harness if installed")
    batch_size: int = field(16, help="examples per forward pass")
    seed: int = field(0, help="sampling seed")

    def __post_init__(self) -> None:
        from ..suites import SUITES

        if not self.suites:
            raise ConfigError("name at least one suite (an empty suite evaluates nothing)", "suites")
        unknown = [s for s in self.suites if s not in SUITES]
        if unknown:
            raise ConfigError(f"unknown suites {unknown}; known: {sorted(SUITES)}", "suites")
        if self.limit < 0:
            raise ConfigError("must be >= 0", "limit")
        if self.pass_k and self.samples_per_problem < max(self.pass_k):
            raise ConfigError("must be at least the largest k of pass_k", "samples_per_problem")


def run(config: EvaluateConfig, ctx) -> RunResult:
    from ..execution import run_suites

    return run_suites(config, ctx)


if __name__ == "__main__":
    from training.runners.cli import main

    raise SystemExit(main(EvaluateConfig, run))
