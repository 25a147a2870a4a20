"""Generation for benchmark suites: the answer budget that fits the model's context, and the call itself."""

from __future__ import annotations

from typing import Any


def storable(text: str) -> str:
    """Generated text as the database can hold it: PostgreSQL text and jsonb reject NUL characters, and a model
    that has not learned much emits any byte."""
    return text.replace("\x00", "")


def context_length(model) -> int:
    config = model.config
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def answer_budget(model, tokenizer, prompts: list[str], wanted: int) -> int:
    """``wanted`` new tokens, or fewer so that the longest prompt plus its answer fits the model's context."""
    limit = context_length(model)
    lengths = [len(tokenizer(p, add_special_tokens=False).input_ids) for p in prompts]
    longest = max(lengths, default=0)
    room = limit - longest
    if room < 1:
        index = lengths.index(longest)
        raise ValueError(
            f"prompt {index} has {longest} tokens and the model's context is {limit}: no room for an answer"
        )
    return min(wanted, room)


def generate_answers(
    spec, prompts: list[str], *, stop: list[str], samples: int = 1, temperature: float = 0.0
) -> tuple[list[list[str]], dict[str, Any]]:
    """Completions per prompt (greedy unless sampling), cut at the stop strings; and how they were generated."""
    from ..model_io import generate

    model, tokenizer = spec.model
    budget = answer_budget(model, tokenizer, prompts, spec.config.max_new_tokens)
    outputs = generate(
        model,
        tokenizer,
        prompts,
        max_new_tokens=budget,
        temperature=temperature,
        top_p=0.95 if temperature > 0 else 1.0,
        num_return_sequences=samples,
        batch_size=max(1, spec.config.batch_size // max(1, samples)),
        seed=spec.config.seed,
        stop=stop,
    )
    spec.ctx.check_cancelled()
    outputs = [[storable(text) for text in group] for group in outputs]
    info = {"max_new_tokens": budget, "temperature": temperature, "samples": samples, "stop": stop}
    if temperature > 0:
        info["top_p"] = 0.95
    return outputs, info
