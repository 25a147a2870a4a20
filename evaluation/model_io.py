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


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Context and continuation token ids exactly as lm-evaluation-harness (0.4.x, HF models) makes them.

    Trailing whitespace of the context moves to the continuation; context + continuation is tokenized as one string
    and split after the context's own tokens (so word boundaries tokenize as in running text); the tokenizer's
    default special tokens apply (a BOS where the tokenizer adds one). An empty context conditions on the BOS
    token (EOS when there is none).
    """
    if not context.strip():
        continuation = context + continuation
        cont_ids = tokenizer(continuation, add_special_tokens=False).input_ids
        prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if cont_ids and cont_ids[0] == prefix:
            return cont_ids[:1], cont_ids[1:]
        return [prefix], cont_ids
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer(context + continuation).input_ids
    ctx_ids = tokenizer(context).input_ids
    return ctx_ids, whole[len(ctx_ids) :]


def _accepts_logits_to_keep(model) -> bool:
    import inspect

    try:
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


@torch.no_grad()
def continuation_logprobs(
    model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 16
) -> list[tuple[float, int, bool]]:
    """For each (context, continuation): (sum of log p(continuation | context), continuation tokens, is greedy).

    Tokenization follows lm-evaluation-harness (``encode_pair``); a sequence longer than the model's context keeps
    its last ``context + 1`` tokens and feeds all but the last, as lm-eval does. For speed, without changing any
    number: sequences are batched longest first (little padding; right padding never changes a causal model's
    outputs at real positions), the model projects onto the vocabulary only the last positions a batch needs
    (``logits_to_keep``), and log-softmax is taken only at the positions that predict continuation tokens, in one
    vectorized gather with a single transfer per batch.
    """
    dev = next(model.parameters()).device
    max_len = getattr(model.config, "max_position_embeddings", None) or 2048
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    encoded: list[tuple[list[int], int, list[int]]] = []  # (model inputs, continuation length, its token ids)
    for context, continuation in pairs:
        ctx_ids, cont_ids = encode_pair(tokenizer, context, continuation)
        ids = (ctx_ids + cont_ids)[-(max_len + 1) :]
        if len(cont_ids) >= len(ids):
            raise ValueError(f"a continuation of {len(cont_ids)} tokens does not fit the model's context of {max_len}")
        encoded.append((ids[:-1], len(cont_ids), ids[-len(cont_ids) :] if cont_ids else []))
    keep_last = _accepts_logits_to_keep(model)
    out: list[tuple[float, int, bool]] = [(0.0, 0, True)] * len(pairs)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]), reverse=True)
    for start in range(0, len(order), batch_size):
        chunk = [i for i in order[start : start + batch_size] if encoded[i][1] > 0]
        if not chunk:
            continue
        width = max(len(encoded[i][0]) for i in chunk)
        batch = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        rows, cols, targets = [], [], []
        for r, i in enumerate(chunk):
            inputs, n_cont, target_ids = encoded[i]
            batch[r, : len(inputs)] = torch.tensor(inputs)
            mask[r, : len(inputs)] = 1
            rows += [r] * n_cont
            cols += range(len(inputs) - n_cont, len(inputs))
            targets += target_ids
        kwargs = {"logits_to_keep": width - min(cols)} if keep_last else {}
        logits = model(input_ids=batch.to(dev), attention_mask=mask.to(dev), **kwargs).logits
        offset = width - logits.shape[1]  # logits[:, j] belongs to position offset + j
        row_t = torch.tensor(rows, device=dev)
        target_t = torch.tensor(targets, device=dev)
        picked = logits[row_t, torch.tensor(cols, device=dev) - offset].float()  # (continuation tokens, vocab)
        token_lp = picked.gather(1, target_t[:, None]).squeeze(1) - torch.logsumexp(picked, dim=-1)
        missed = (picked.argmax(-1) != target_t).float()
        sums = torch.zeros(len(chunk), device=dev, dtype=torch.float32).index_add_(0, row_t, token_lp)
        misses = torch.zeros(len(chunk), device=dev).index_add_(0, row_t, missed)
        for r, (total, miss) in enumerate(torch.stack([sums, misses], dim=1).tolist()):
            i = chunk[r]
            out[i] = (total, encoded[i][1], miss == 0)
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
            results.append([_cut(t, stop).replace("\x00", "") for t in group])  # PostgreSQL rejects NUL
    return results


def _cut(text: str, stop: list[str] | None) -> str:
    for s in stop or []:
        i = text.find(s)
        if i != -1:
            text = text[:i]
    return text
