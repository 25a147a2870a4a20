"""``merge_adapter``: merge a LoRA adapter into its base and export a full model version (HF format)."""

from dataclasses import dataclass

from ..configs import field
from .base import ArtifactSpec, RunResult


@dataclass
class MergeAdapterConfig:
    """Merge an adapter into its base model."""

    adapter: str = field("latest", help="the adapter artifact to merge", artifact="adapter")


def run(config: MergeAdapterConfig, ctx) -> RunResult:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    path = ctx.resolve_input(config.adapter, "adapter")
    ctx.progress(0, 2, "loading")
    model = AutoPeftModelForCausalLM.from_pretrained(path).merge_and_unload()
    out = ctx.folder / "model"
    ctx.progress(1, 2, "saving")
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(path).save_pretrained(out)
    ctx.progress(2, 2, "done")
    params = sum(p.numel() for p in model.parameters())
    return RunResult(
        summary={"parameters": params},
        artifacts=[
            ArtifactSpec(
                "model", out, name="merged", parents=[config.adapter], metadata={"merged_from": config.adapter}
            )
        ],
    )


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(MergeAdapterConfig, run))
