"""Loading model versions and scoring with them: batched log-likelihoods and greedy/sampled generation."""

from pathlib import Path

import torch


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_causal_lm(path: Path):
    """(model, tokenizer) in eval mode; adapters are merged into their base first."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    dtype = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    if (path / "adapter_config.json").exists():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=dtype).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device()).eval(), tokenizer


@torch.no_grad()
def continuation_logprobs(
    model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 16
) -> list[tuple[float, int, bool]]:
    """For each (context, continuation): (sum of log p(continuation | context), continuation tokens, is greedy).

    Tokenizes context and continuation separately and concatenates ids (as lm-evaluation-harness does), so the
    continuation's tokens are exactly those scored. Batches are right-padded; scores read only real positions.
    """
    out: list[tuple[float, int, bool]] = []
    dev = next(model.parameters()).device
    max_len = getattr(model.config, "max_position_embeddings", 2048)
    encoded = []
    for context, continuation in pairs:
        ctx_ids = tokenizer(context, add_special_tokens=False).input_ids
        cont_ids = tokenizer(continuation, add_special_tokens=False).input_ids
        if not ctx_ids:
            ctx_ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
        ids = (ctx_ids + cont_ids)[-max_len:]
        encoded.append((ids, len(cont_ids)))
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start : start + batch_size]
        width = max(len(ids) for ids, _ in chunk)
        batch = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, (ids, _) in enumerate(chunk):
            batch[i, : len(ids)] = torch.tensor(ids)
            mask[i, : len(ids)] = 1
        logits = model(input_ids=batch.to(dev), attention_mask=mask.to(dev)).logits.float()
        logprobs = torch.log_softmax(logits, dim=-1)
        for i, (ids, n_cont) in enumerate(chunk):
            if n_cont == 0:
                out.append((0.0, 0, True))
                continue
            positions = torch.arange(len(ids) - n_cont - 1, len(ids) - 1, device=dev)
            targets = torch.tensor(ids[-n_cont:], device=dev)
            token_lp = logprobs[i, positions, targets]
            greedy = bool((logprobs[i, positions].argmax(-1) == targets).all())
            out.append((float(token_lp.sum()), n_cont, greedy))
    return out


@torch.no_grad()
def generate(
    model,
    tokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    num_return_sequences: int = 1,
    batch_size: int = 8,
    seed: int = 0,
    stop: list[str] | None = None,
) -> list[list[str]]:
    """Completions per prompt (greedy when temperature is 0), cut at the first stop string."""
    tokenizer.padding_side = "left"
    dev = next(model.parameters()).device
    results: list[list[str]] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(dev)
        torch.manual_seed(seed + start)
        sampled = temperature > 0
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=sampled,
            temperature=temperature if sampled else None,
            top_p=top_p if sampled else None,
            num_return_sequences=num_return_sequences,
            pad_token_id=tokenizer.pad_token_id,
        )
        texts = tokenizer.batch_decode(out[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
        for i in range(len(chunk)):
            group = texts[i * num_return_sequences : (i + 1) * num_return_sequences]
            results.append([_cut(t, stop) for t in group])
    return results


def _cut(text: str, stop: list[str] | None) -> str:
    for s in stop or []:
        i = text.find(s)
        if i != -1:
            text = text[:i]
    return text
