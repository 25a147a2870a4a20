"""The per-token KL penalty that keeps the policy near the reference, and the controllers of its coefficient.

Ziegler et al. (2019) shape the reward as r_t = -beta * KL_t plus the score at the last token, and adapt beta so that
the per-response KL tracks a target: beta <- beta * (1 + K * clip(KL / target - 1, -0.2, 0.2)), K = n / horizon for
a batch of n episodes.
"""

import torch

ESTIMATORS = ("k1", "k3")


def per_token_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """KL(pi || ref) per sampled token: k1 = log(pi / ref); k3 = (ref / pi - 1) - log(ref / pi) (unbiased, >= 0)."""
    log_ratio = logprobs - ref_logprobs
    if estimator == "k1":
        return log_ratio
    if estimator == "k3":
        return torch.expm1(-log_ratio) + log_ratio
    raise ValueError(f"unknown KL estimator {estimator!r}; use one of {ESTIMATORS}")


def shaped_rewards(
    scores: torch.Tensor, kl_tokens: torch.Tensor, mask: torch.Tensor, coef: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(rewards, non-score rewards) per token: -coef * KL_t on every valid token, plus the sequence's score on its last
    valid token (the EOS, or the last token of a response cut at the length limit)."""
    non_score = -coef * kl_tokens * mask.to(kl_tokens.dtype)
    rewards = non_score.clone()
    last = (mask.long().sum(1) - 1).clamp(min=0)
    rewards[torch.arange(rewards.shape[0], device=rewards.device), last] += scores.to(rewards.dtype)
    return rewards, non_score


class FixedKLController:
    def __init__(self, coef: float):
        self.value = float(coef)

    def update(self, current_kl: float, n_episodes: int) -> None:
        """A fixed coefficient ignores the measured KL."""

    def state_dict(self) -> dict:
        return {"value": self.value}

    def load_state_dict(self, state: dict) -> None:
        self.value = float(state["value"])


class AdaptiveKLController(FixedKLController):
    def __init__(self, coef: float, target: float, horizon: int):
        super().__init__(coef)
        self.target = float(target)
        self.horizon = int(horizon)

    def update(self, current_kl: float, n_episodes: int) -> None:
        error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_episodes / self.horizon


def kl_controller(kind: str, coef: float, target: float, horizon: int) -> FixedKLController:
    return AdaptiveKLController(coef, target, horizon) if kind == "adaptive" else FixedKLController(coef)
