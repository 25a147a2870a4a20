"""The optimization half of a PPO step: ``ppo_epochs`` shuffled passes over the rollout batch, one optimizer step
per minibatch, each minibatch accumulated over micro-batches of ``per_device_batch_size`` episodes."""

from collections import defaultdict
from dataclasses import dataclass

import torch

from .advantages import masked_mean
from .losses import approx_kl, clipped_policy_loss, clipped_value_loss, entropy_from_logits
from .models import SequenceBatch
from .rollout import token_logprobs


@dataclass
class RolloutTargets:
    """What the rollout fixed for the update: the sampler's log-probs and values, advantages and returns."""

    batch: SequenceBatch
    mask: torch.Tensor  # (episodes, response) valid response tokens
    old_logprobs: torch.Tensor
    old_values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    @property
    def tokens(self) -> torch.Tensor:
        return self.batch.input_ids[:, self.batch.prompt_length :]


def micro_step(model, config, targets: RolloutTargets, index: torch.Tensor, scaler, autocast) -> dict[str, float]:
    """Forward one micro-batch, backpropagate its share of the minibatch loss, return its statistics."""
    old_logprobs, mask = targets.old_logprobs[index], targets.mask[index]
    with autocast():
        logits, values = model(targets.batch.select(index))
    new_logprobs = token_logprobs(logits, targets.tokens[index], config.temperature)
    policy_loss, policy_clipfrac = clipped_policy_loss(
        new_logprobs, old_logprobs, targets.advantages[index], mask, config.cliprange
    )
    value_loss, value_clipfrac = clipped_value_loss(
        values, targets.old_values[index], targets.returns[index], mask, config.cliprange_value
    )
    entropy = masked_mean(entropy_from_logits(logits.float() / config.temperature), mask)
    loss = policy_loss + config.vf_coef * value_loss - config.entropy_coef * entropy
    scaler.scale(loss / config.gradient_accumulation_steps).backward()
    with torch.no_grad():
        return {
            "policy_loss": policy_loss.item(),
            "value_loss": value_loss.item(),
            "policy_clipfrac": policy_clipfrac.item(),
            "value_clipfrac": value_clipfrac.item(),
            "approx_kl": approx_kl(new_logprobs, old_logprobs, mask).item(),
            "entropy": entropy.item(),
            "ratio": masked_mean(torch.exp(new_logprobs - old_logprobs), mask).item(),
        }


def ppo_update(model, config, targets: RolloutTargets, *, optimizer, scaler, parameters, autocast) -> dict:
    """Mean statistics over every micro-batch (and the gradient norm over every optimizer step)."""
    episodes = config.rollout_batch_size
    minibatch = config.per_device_batch_size * config.gradient_accumulation_steps
    stats: dict[str, list[float]] = defaultdict(list)
    for _ in range(config.ppo_epochs):
        order = torch.randperm(episodes).to(targets.mask.device)  # the global RNG: restored on resume
        for start in range(0, episodes, minibatch):
            optimizer.zero_grad(set_to_none=True)
            for micro in range(start, start + minibatch, config.per_device_batch_size):
                index = order[micro : micro + config.per_device_batch_size]
                for key, value in micro_step(model, config, targets, index, scaler, autocast).items():
                    stats[key].append(value)
            scaler.unscale_(optimizer)
            stats["grad_norm"].append(float(torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)))
            scaler.step(optimizer)
            scaler.update()
    return {key: sum(values) / len(values) for key, values in stats.items()}
