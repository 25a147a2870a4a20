"""Scores for finished responses: a reward model, a Python reward function, or their sum; the missing-EOS score and
optional normalization.

A response that hit the length limit without EOS would otherwise be scored like a finished one, and PPO learns to
ramble; the N implementation details replace its score with a fixed penalty (-1 in their runs).
"""

import importlib
from collections.abc import Callable
from typing import Any

import torch

from .prompts import reward_text

RewardFunction = Callable[[list[Any], list[str]], list[float]]


def load_reward_function(dotted: str) -> RewardFunction:
    module_name, _, attr = dotted.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"reward_function {dotted!r} cannot be imported: {exc}") from exc
    if not callable(function):
        raise ValueError(f"reward_function {dotted!r} is not callable")
    return function


def call_reward_function(function: RewardFunction, prompts: list[Any], completions: list[str]) -> torch.Tensor:
    values = list(function(prompts, completions))
    if len(values) != len(completions):
        raise ValueError(f"the reward function returned {len(values)} scores for {len(completions)} completions")
    scores = torch.tensor([float(v) for v in values], dtype=torch.float32)
    if not torch.isfinite(scores).all():
        raise ValueError("the reward function returned a non-finite score")
    return scores


class RewardModelScorer:
    """Scores texts with a sequence-classification reward model, formatted as its trainer formatted them."""

    def __init__(self, model, tokenizer, *, max_length: int, batch_size: int):
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.tokenizer = tokenizer
        self.tokenizer.truncation_side = "left"  # keep the response, which is at the end
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = tokenizer.pad_token_id
        self.max_length = max_length
        self.batch_size = batch_size

    @torch.no_grad()
    def __call__(self, prompts: list[Any], completions: list[str], autocast: Callable) -> torch.Tensor:
        device = next(self.model.parameters()).device
        scores = []
        for start in range(0, len(prompts), self.batch_size):
            rows = list(
                zip(prompts[start : start + self.batch_size], completions[start : start + self.batch_size], strict=True)
            )
            encoded = [
                self.tokenizer(
                    reward_text(self.tokenizer, p, c),
                    add_special_tokens=not isinstance(p, list),
                    truncation=True,
                    max_length=self.max_length,
                )["input_ids"]
                for p, c in rows
            ]
            width = max(len(e) for e in encoded)
            pad = self.tokenizer.pad_token_id
            ids = torch.full((len(encoded), width), pad, dtype=torch.long)
            mask = torch.zeros((len(encoded), width), dtype=torch.long)
            for row, seq in enumerate(encoded):  # right padding: the model reads its score at the last real token
                ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
            with autocast():
                logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            scores.append(logits[:, 0].float().cpu())
        return torch.cat(scores)


class ScoreNormalizer:
    """none: scores as they come; initial: one affine map fixed on the first batch (so the starting policy scores
    mean 0, std 1, as Ziegler et al. normalize their reward model); batch: whitened within each rollout batch."""

    def __init__(self, mode: str):
        self.mode = mode
        self.gain: float | None = None
        self.bias: float | None = None

    def __call__(self, scores: torch.Tensor) -> torch.Tensor:
        if self.mode == "none":
            return scores
        std = float(scores.std()) if scores.numel() > 1 else 0.0
        if self.mode == "batch":
            return (scores - scores.mean()) / (std + 1e-8)
        if self.gain is None:
            self.gain = 1.0 / (std + 1e-8) if std > 0 else 1.0
            self.bias = -float(scores.mean()) * self.gain
        return scores * self.gain + self.bias

    def state_dict(self) -> dict:
        return {"mode": self.mode, "gain": self.gain, "bias": self.bias}

    def load_state_dict(self, state: dict) -> None:
        self.gain, self.bias = state.get("gain"), state.get("bias")


def apply_missing_eos(scores: torch.Tensor, has_eos: torch.Tensor, missing_eos_score: float | None) -> torch.Tensor:
    if missing_eos_score is None:
        return scores
    return torch.where(has_eos.cpu(), scores, torch.full_like(scores, float(missing_eos_score)))
