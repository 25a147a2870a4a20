"""Rollouts: sample responses, end them at the first EOS, and read the log-probs PPO compares against.

The sampler and the learner must agree on the distribution: log-probs are taken from a separate forward pass with
logits divided by the sampling temperature (N implementation details), so the first update's ratio is exactly 1.
Top-k / top-p sampling would draw from a truncated distribution the log-probs do not describe; they stay off by
default.
"""

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from transformers import GenerationConfig

from .models import SequenceBatch, unwrap


@dataclass
class Responses:
    batch: SequenceBatch  # prompts + responses, attention over valid tokens only
    response_mask: torch.Tensor  # (batch, response) bool: tokens up to and including the first EOS
    has_eos: torch.Tensor  # (batch,) bool: the response ended by itself rather than at the length limit

    @property
    def responses(self) -> torch.Tensor:
        return self.batch.input_ids[:, self.batch.prompt_length :]

    @property
    def lengths(self) -> torch.Tensor:
        return self.response_mask.sum(1)


def left_pad(sequences: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq) :] = 1
    return ids.to(device), mask.to(device)


def sampling_config(*, response_length: int, temperature: float, top_k: int, top_p: float, stop_ids, pad_id):
    """Every knob set explicitly: the model's own generation_config (repetition penalties, default top_p, ...) must
    not leak into PPO's sampling distribution."""
    return GenerationConfig(
        do_sample=True,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        max_new_tokens=response_length,
        min_new_tokens=0,
        repetition_penalty=1.0,
        no_repeat_ngram_size=0,
        num_beams=1,
        eos_token_id=list(stop_ids),
        pad_token_id=pad_id,
        use_cache=True,
    )


@contextmanager
def generation_mode(model):
    """eval() for sampling (a KV cache even under activation checkpointing), train() afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def end_at_first_stop(responses: torch.Tensor, stop_ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(mask of tokens up to and including the first stop token, whether there was one) per response."""
    is_stop = torch.isin(responses, torch.tensor(stop_ids, device=responses.device))
    has_eos = is_stop.any(1)
    steps = torch.arange(responses.shape[1], device=responses.device)
    first = torch.where(
        has_eos, is_stop.float().argmax(1), torch.full_like(has_eos, responses.shape[1], dtype=torch.long)
    )
    return steps.unsqueeze(0) <= first.unsqueeze(1), has_eos


@torch.no_grad()
def sample(
    policy, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, config: GenerationConfig, *, chunk: int, pad_id: int
) -> Responses:
    """Sample one response per prompt (in chunks of ``chunk`` prompts) and mark where each one ends."""
    pieces = []
    with generation_mode(policy):
        for start in range(0, prompt_ids.shape[0], chunk):
            ids, mask = prompt_ids[start : start + chunk], prompt_mask[start : start + chunk]
            out = policy.generate(input_ids=ids, attention_mask=mask, generation_config=config)
            pieces.append(out[:, prompt_ids.shape[1] :])
    width = max(1, max(p.shape[1] for p in pieces))
    responses = torch.full((prompt_ids.shape[0], width), pad_id, dtype=torch.long, device=prompt_ids.device)
    row = 0
    for piece in pieces:
        responses[row : row + piece.shape[0], : piece.shape[1]] = piece
        row += piece.shape[0]
    stop_ids = config.eos_token_id if isinstance(config.eos_token_id, list) else [config.eos_token_id]
    response_mask, has_eos = end_at_first_stop(responses, stop_ids)
    responses = responses.masked_fill(~response_mask, pad_id)
    batch = SequenceBatch(
        input_ids=torch.cat([prompt_ids, responses], 1),
        attention_mask=torch.cat([prompt_mask, response_mask.long()], 1),
        prompt_length=prompt_ids.shape[1],
    )
    return Responses(batch=batch, response_mask=response_mask, has_eos=has_eos)


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float) -> torch.Tensor:
    """log pi(token) under softmax(logits / temperature), without materialising the full log-softmax twice."""
    scaled = logits.float() / temperature
    picked = torch.gather(scaled, -1, tokens.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(scaled, dim=-1)


def stop_token_ids(tokenizer, model) -> list[int]:
    """EOS of the tokenizer plus any end-of-turn ids the model's generation config declares."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    declared = getattr(unwrap(model).generation_config, "eos_token_id", None)
    if isinstance(declared, int):
        ids.add(declared)
    elif isinstance(declared, list | tuple):
        ids.update(int(i) for i in declared)
    if not ids:
        raise ValueError("the tokenizer has no EOS token: PPO needs one to know where a response ends")
    return sorted(ids)
