"""PPO's clipped objectives (Schulman et al. 2017), as token-level means over valid response tokens.

Each returns the loss and the share of tokens where clipping decided the value (the clip fraction), the first sign of
steps that are too large.
"""

import torch

from .advantages import masked_mean


def clipped_policy_loss(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    cliprange: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """L = E[max(-A r, -A clip(r, 1 - eps, 1 + eps))], r = pi_new / pi_old: the pessimistic bound of the paper."""
    ratio = torch.exp(new_logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    clipfrac = masked_mean((clipped > unclipped).to(ratio.dtype), mask)
    return loss, clipfrac


def clipped_value_loss(
    new_values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, cliprange: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """0.5 E[max((V - R)^2, (V_clip - R)^2)], V_clip = V_old + clip(V - V_old, -eps, eps) (the value clipping of
    OpenAI's baselines, which the RLHF implementations keep)."""
    clipped_values = old_values + torch.clamp(new_values - old_values, -cliprange, cliprange)
    unclipped_error = (new_values - returns) ** 2
    clipped_error = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped_error, clipped_error), mask)
    clipfrac = masked_mean((clipped_error > unclipped_error).to(new_values.dtype), mask)
    return loss, clipfrac


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Per-position entropy of softmax(logits): logsumexp(l) - sum(p * l)."""
    probs = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (probs * logits).sum(-1)


def approx_kl(new_logprobs: torch.Tensor, old_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """E[(log r)^2 / 2]: how far the update moved the policy from the one that sampled (k2 of Schulman's note)."""
    return masked_mean(0.5 * (new_logprobs - old_logprobs) ** 2, mask)
