"""Token perplexity and bits per byte on a held-out split of token shards (comparable across tokenizers via bpb)."""

import math

import torch

from . import Example, Metric, SuiteResult, SuiteSpec


@torch.no_grad()
def run(spec: SuiteSpec) -> SuiteResult:
    from training.pretraining.data import TokenSplit

    shards = spec.inputs.get("token_shards")
    if shards is None:
        raise ValueError("perplexity needs token_shards (a token-shards artifact with a held-out split)")
    split = None
    for name in (spec.config.split, "validation", "test"):
        try:
            split = TokenSplit(shards, name)
            break
        except FileNotFoundError:
            continue
    if split is None:
        raise ValueError(f"the token shards at {shards} have no held-out split")
    model, tokenizer = spec.model
    dev = next(model.parameters()).device
    seq = min(1024, getattr(model.config, "max_position_embeddings", 1024))
    tokens = split.tokens
    windows = max(1, (len(tokens) - 1) // seq)
    if spec.config.limit:
        windows = min(windows, spec.config.limit)
    total_nll, total_tokens, total_bytes = 0.0, 0, 0
    examples = []
    for w in range(windows):
        ids = torch.tensor(tokens[w * seq : w * seq + seq + 1].astype("int64"), device=dev)
        if len(ids) < 2:
            break
        logits = model(input_ids=ids[None, :-1]).logits.float()
        nll = torch.nn.functional.cross_entropy(logits[0], ids[1:], reduction="sum").item()
        n_bytes = len(tokenizer.decode(ids[1:].tolist()).encode("utf-8"))
        total_nll += nll
        total_tokens += len(ids) - 1
        total_bytes += n_bytes
        if w < 20:
            text = tokenizer.decode(ids[1:].tolist())
            examples.append(Example(input=text[:2000], score=nll / (len(ids) - 1), metadata={"window": w}))
        spec.ctx.check_cancelled()
    mean = total_nll / max(1, total_tokens)
    return SuiteResult(
        metrics=[
            Metric("perplexity", math.exp(min(mean, 50)), n=total_tokens, higher_is_better=False),
            Metric(
                "bits_per_byte", total_nll / (math.log(2) * max(1, total_bytes)), n=total_bytes, higher_is_better=False
            ),
            Metric("loss", mean, n=total_tokens, higher_is_better=False),
        ],
        examples=examples,
    )
