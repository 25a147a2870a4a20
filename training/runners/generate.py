"""``generate``: sample K responses per prompt from one or more model versions, into an annotation project.

Each response records its model version (``artifact:<id>``) and the generation parameters, so the newest policy
feeds the next round of comparisons. The sampling itself lives in training.generation (imports torch).
"""

from dataclasses import dataclass
from typing import Literal

from ..configs import ConfigError, field
from .base import RunResult


@dataclass
class GenerateConfig:
    """Sample responses from model versions into an annotation project."""

    models: list[str] = field(
        default_factory=lambda: ["latest"], help="model versions (ids, paths or 'latest')", artifact="model|adapter"
    )
    project: int | None = field(None, help="annotation project whose prompts get the samples as responses")
    prompts_file: str | None = field(None, help="a JSONL file of {'prompt'} or {'messages'} rows instead (CLI)")
    prompts: list[str] = field(default_factory=list, help="or these prompts (samples shown on the model page)")
    samples_per_prompt: int = field(2, help="K: responses sampled per prompt and model")
    temperature: float = field(0.8, help="sampling temperature (0: greedy, one sample)")
    top_p: float = field(0.95, help="nucleus sampling threshold")
    max_new_tokens: int = field(128, help="longest response in tokens")
    split: Literal["train", "validation", "test"] | None = field(None, help="only prompts of this split")
    max_prompts: int = field(0, help="at most this many prompts (0: all)")
    skip_existing: bool = field(True, help="skip prompts that already hold responses of this model version")
    batch_size: int = field(8, help="prompts per generate() call")
    chat_template: Literal["auto", "always", "never"] = field(
        "auto", help="format conversations with the tokenizer's chat template (auto: when it has one)"
    )
    seed: int = field(0, help="sampling seed")

    def __post_init__(self) -> None:
        if sum((self.project is not None, self.prompts_file is not None, bool(self.prompts))) != 1:
            raise ConfigError("give exactly one of project, prompts_file or prompts", "project")
        if not self.models:
            raise ConfigError("name at least one model", "models")
        if self.samples_per_prompt < 1 or self.samples_per_prompt > 16:
            raise ConfigError("must lie in 1..16", "samples_per_prompt")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ConfigError("temperature must be >= 0 and top_p in (0, 1]", "temperature")
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ConfigError("must be at least 1", "max_new_tokens")


def run(config: GenerateConfig, ctx) -> RunResult:
    from ..generation import generate_into

    return generate_into(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(GenerateConfig, run))
