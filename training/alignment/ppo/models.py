"""The policy, its frozen reference and the critic, and the forward passes PPO needs from them.

- Reference: a frozen copy of the starting policy; under LoRA / QLoRA the same model with its adapter disabled (no
  second copy of the weights).
- Critic: a scalar head on the policy's last hidden states ("head"), or a separate sequence-classification model
  initialised from the policy or from the reward model, whose ``score`` layer is applied at every position.
- Dropout is switched off everywhere (N implementation details): with it, the log-probs of the rollout and of the
  first update would differ and the PPO ratio would not start at 1.
"""

import copy
import inspect
import math
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class SequenceBatch:
    """Prompts (left-padded to a common length) followed by responses (right-padded after their end)."""

    input_ids: torch.Tensor  # (batch, prompt + response)
    attention_mask: torch.Tensor  # (batch, prompt + response): prompt tokens and valid response tokens
    prompt_length: int

    @property
    def response_length(self) -> int:
        return self.input_ids.shape[1] - self.prompt_length

    @property
    def position_ids(self) -> torch.Tensor:
        return (self.attention_mask.long().cumsum(-1) - 1).clamp(min=0)

    def select(self, index: torch.Tensor) -> "SequenceBatch":
        return SequenceBatch(self.input_ids[index], self.attention_mask[index], self.prompt_length)


def disable_dropout(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "attention_dropout", None), float):
            module.attention_dropout = 0.0


def unwrap(model: nn.Module) -> nn.Module:
    """The transformers model under a PEFT wrapper (LoRA layers live inside it, so calling it keeps them active)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _accepts_logits_to_keep(model: nn.Module) -> bool:
    return "logits_to_keep" in inspect.signature(type(unwrap(model)).forward).parameters


class ValueHead(nn.Module):
    """A linear map from the last hidden state to a scalar, initialised small (std 1/sqrt(d+1), bias 0) as in
    OpenAI's lm-human-preferences, so early values are near zero rather than noise."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.summary = nn.Linear(hidden_size, 1)
        nn.init.normal_(self.summary.weight, std=1.0 / math.sqrt(hidden_size + 1))
        nn.init.zeros_(self.summary.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.summary(hidden.to(self.summary.weight.dtype)).squeeze(-1)


class PolicyAndCritic(nn.Module):
    """What PPO trains (policy + critic) and what it only reads (the reference)."""

    def __init__(self, policy: nn.Module, *, critic: nn.Module | None = None, reference: nn.Module | None = None):
        super().__init__()
        self.policy = policy
        self.is_peft = hasattr(policy, "disable_adapter")
        self.critic = critic
        self.value_head = None if critic is not None else ValueHead(unwrap(policy).config.hidden_size)
        self._reference = [reference]  # a list keeps the frozen copy out of this module's parameters and state
        self._keep_logits = _accepts_logits_to_keep(policy)

    # --- forward passes -----------------------------------------------------------------------------------------
    def _policy_forward(self, model: nn.Module, batch: SequenceBatch, want_hidden: bool):
        kwargs = {}
        if self._keep_logits:
            kwargs["logits_to_keep"] = batch.response_length + 1
        out = model(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            output_hidden_states=want_hidden,
            use_cache=False,
            **kwargs,
        )
        r, p = batch.response_length, batch.prompt_length
        logits = out.logits[:, -(r + 1) : -1]  # position t predicts token t + 1
        hidden = out.hidden_states[-1][:, p - 1 : p + r - 1] if want_hidden else None
        return logits, hidden

    def _critic_values(self, batch: SequenceBatch) -> torch.Tensor:
        inner = unwrap(self.critic)
        backbone = getattr(inner, inner.base_model_prefix)
        out = backbone(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            use_cache=False,
        )
        p, r = batch.prompt_length, batch.response_length
        hidden = out.last_hidden_state[:, p - 1 : p + r - 1]
        return inner.score(hidden).squeeze(-1).float()

    def forward(self, batch: SequenceBatch, *, values: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Policy logits for each response token, (batch, response, vocab); and the critic's values, (batch, response),
        each value estimating the return from the state before that token."""
        shared = values and self.value_head is not None
        logits, hidden = self._policy_forward(self.policy, batch, want_hidden=shared)
        if not values:
            return logits, None
        if shared:
            return logits, self.value_head(hidden).float()
        return logits, self._critic_values(batch)

    @torch.no_grad()
    def reference_logits(self, batch: SequenceBatch) -> torch.Tensor:
        reference = self._reference[0]
        if reference is not None:
            return self._policy_forward(reference, batch, want_hidden=False)[0]
        with self.policy.disable_adapter() if self.is_peft else nullcontext():
            return self._policy_forward(self.policy, batch, want_hidden=False)[0]

    # --- parameters ---------------------------------------------------------------------------------------------
    def trainable_named_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """Policy, then value head or critic: a fixed order, so optimizer state and checkpoints line up."""
        return [(n, p) for n, p in self.named_parameters() if p.requires_grad]


def frozen_copy(model: nn.Module) -> nn.Module:
    reference = copy.deepcopy(model)
    reference.eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    return reference
