"""Masked statistics, whitening and Generalized Advantage Estimation over right-padded response tokens.

Responses in a batch have different lengths; every statistic here counts only the tokens a mask marks valid, so the
padding after a response's end never shifts a mean or a variance (N implementation details, "masked whitening").
"""

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1.0)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1.0)


def masked_var(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unbiased variance of the valid entries (biased when there is a single one: no correction to make)."""
    mean = masked_mean(values, mask)
    count = mask.to(values.dtype).sum()
    variance = masked_mean((values - mean) ** 2, mask)
    return variance * count / (count - 1) if count > 1 else variance


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, *, shift_mean: bool = True, eps: float = 1e-8):
    """Scale the valid entries to unit variance (and zero mean unless ``shift_mean`` is False); padding becomes 0.

    Rewards are whitened without shifting the mean (a shift would change the sign of a shaped reward), advantages
    with it.
    """
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask.to(values.dtype)


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, *, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns, (batch, tokens) each, by GAE (Schulman et al. 2016).

    ``values[:, t]`` estimates the return from the state before token t. The episode ends after the last valid
    token: the value after it is zero, and padding contributes nothing (rewards and values there are zeroed).
    delta_t = r_t + gamma * V_{t+1} - V_t;  A_t = delta_t + gamma * lam * A_{t+1};  returns = A + V.
    """
    maskf = mask.to(values.dtype)
    rewards = rewards * maskf
    values = values * maskf
    steps = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(steps)):
        next_value = values[:, t + 1] if t + 1 < steps else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * maskf[:, t]
        advantages[:, t] = running
    return advantages, advantages + values
