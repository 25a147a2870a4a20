"""The PPO loop: rollout, score, shape rewards with the KL penalty, GAE, several minibatch epochs of clipped updates.

One PPO step = one rollout batch of ``per_device_batch_size x gradient_accumulation_steps x num_minibatches``
episodes, then ``ppo_epochs`` shuffled passes over it, one optimizer step per minibatch. Cancellation is honoured
between steps (a checkpoint is written first), and a restarted job resumes from the newest complete checkpoint with
the same RNG, prompts and KL coefficient, so its remaining steps match an uninterrupted run.
"""

import math
import os
import time
from collections import defaultdict
from pathlib import Path

import torch
from transformers import get_scheduler

from ...configs import to_dict
from ...pretraining.precision import autocast, choose_precision, grad_scaler
from ...runners.base import ArtifactSpec, CheckpointStore, JobCancelled, RunResult
from ..trl_common import load_tokenizer
from .advantages import gae, masked_mean, masked_whiten
from .build import build_policy_and_critic, load_reward_scorer
from .kl import kl_controller, per_token_kl, shaped_rewards
from .prompts import encode_prompts, load_prompts, policy_text
from .rewards import ScoreNormalizer, apply_missing_eos, call_reward_function, load_reward_function
from .rollout import Responses, left_pad, sample, sampling_config, stop_token_ids, token_logprobs
from .state import PromptSampler, load_checkpoint, save_checkpoint
from .update import RolloutTargets, ppo_update

# Metrics that depend on the wall clock, not on the computation (left out when comparing runs).
TIMING_METRICS = ("tokens_per_second", "step_seconds")


def total_steps(config, prompt_count: int) -> int:
    if config.max_steps > 0:
        return config.max_steps
    return max(1, math.ceil(config.epochs * prompt_count / config.rollout_batch_size))


def _scheduler(config, optimizer, steps: int):
    warmup = math.ceil(config.warmup_ratio * steps)
    extra = {"num_decay_steps": max(1, steps // 10)} if config.lr_scheduler == "warmup_stable_decay" else None
    return get_scheduler(
        config.lr_scheduler, optimizer, num_warmup_steps=warmup, num_training_steps=steps,
        scheduler_specific_kwargs=extra,
    )  # fmt: skip


def _optimizer(config, parameters):
    if config.optimizer_8bit:
        import bitsandbytes as bnb

        return bnb.optim.AdamW8bit(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    return torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)


class PpoTrainer:
    def __init__(self, config, ctx, *, policy_path: Path, reward_path: Path | None, prompts):
        self.config, self.ctx = config, ctx
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.precision = choose_precision(config.precision, self.device)
        torch.manual_seed(config.seed)
        self.tokenizer = load_tokenizer(policy_path)
        self.model = build_policy_and_critic(config, policy_path, reward_path, self.tokenizer, self.device)
        self.scorer = (
            load_reward_scorer(
                reward_path, max_length=config.max_length, batch_size=config.per_device_batch_size, device=self.device
            )
            if reward_path is not None
            else None
        )
        self.reward_function = load_reward_function(config.reward_function) if config.reward_function else None
        self.prompts = prompts
        self.prompt_budget = config.max_length - config.response_length
        self.encoded = encode_prompts(self.tokenizer, prompts.train, self.prompt_budget)
        self.stop_ids = stop_token_ids(self.tokenizer, self.model.policy)
        self.pad_id = self.tokenizer.pad_token_id
        self.sampling = sampling_config(
            response_length=config.response_length, temperature=config.temperature, top_k=config.top_k,
            top_p=config.top_p, stop_ids=self.stop_ids, pad_id=self.pad_id,
        )  # fmt: skip
        self.steps = total_steps(config, len(prompts.train))
        self.parameters = [p for _, p in self.model.trainable_named_parameters()]
        self.optimizer = _optimizer(config, self.parameters)
        self.scheduler = _scheduler(config, self.optimizer, self.steps)
        self.scaler = grad_scaler(self.precision, self.device)
        self.kl = kl_controller(config.kl_control, config.kl_coef, config.kl_target, config.kl_horizon)
        self.normalizer = ScoreNormalizer(config.reward_normalization)
        self.sampler = PromptSampler(len(prompts.train), config.seed)
        self.store = CheckpointStore(ctx.folder, keep=config.save_total_limit)
        self.step = 0
        self.history: dict[str, list[float]] = defaultdict(list)

    def _autocast(self):
        return autocast(self.precision, self.device)

    # --- rollout and scoring --------------------------------------------------------------------------------------
    def rollout(self, prompt_objects: list, encoded: list[list[int]]) -> tuple[Responses, list[str]]:
        prompt_ids, prompt_mask = left_pad(encoded, self.pad_id, self.device)
        chunk = self.config.generation_batch_size or len(encoded)
        with self._autocast():
            responses = sample(
                self.model.policy, prompt_ids, prompt_mask, self.sampling, chunk=chunk, pad_id=self.pad_id
            )
        texts = self.tokenizer.batch_decode(
            [row[mask & ~torch.isin(row, torch.tensor(self.stop_ids, device=row.device))].tolist()
             for row, mask in zip(responses.responses, responses.response_mask, strict=True)],
            skip_special_tokens=True,
        )  # fmt: skip
        return responses, texts

    def score(self, prompt_objects: list, completions: list[str]) -> dict[str, torch.Tensor]:
        parts = {}
        if self.scorer is not None:
            parts["reward_model"] = self.scorer(prompt_objects, completions, self._autocast)
        if self.reward_function is not None:
            parts["function"] = call_reward_function(self.reward_function, prompt_objects, completions)
        parts["total"] = sum(parts.values())
        return parts

    @torch.no_grad()
    def evaluate_rollout(self, responses: Responses) -> dict[str, torch.Tensor]:
        """Log-probs of the sampling policy and of the reference, and the critic's values, in micro-batches."""
        size = self.config.per_device_batch_size
        tokens = responses.responses
        logprobs, ref_logprobs, values = [], [], []
        for start in range(0, tokens.shape[0], size):
            index = torch.arange(start, min(start + size, tokens.shape[0]), device=tokens.device)
            sub = responses.batch.select(index)
            with self._autocast():
                logits, value = self.model(sub)
                ref_logits = self.model.reference_logits(sub)
            logprobs.append(token_logprobs(logits, tokens[index], self.config.temperature))
            ref_logprobs.append(token_logprobs(ref_logits, tokens[index], self.config.temperature))
            values.append(value)
        return {"logprobs": torch.cat(logprobs), "ref_logprobs": torch.cat(ref_logprobs), "values": torch.cat(values)}

    # --- one PPO step ---------------------------------------------------------------------------------------------
    def ppo_step(self) -> dict[str, float]:
        config = self.config
        started = time.perf_counter()
        index = self.sampler.take(config.rollout_batch_size)
        prompt_objects = [self.prompts.train[i] for i in index]
        responses, completions = self.rollout(prompt_objects, [self.encoded[i] for i in index])
        mask = responses.response_mask
        maskf = mask.float()
        rollout = self.evaluate_rollout(responses)
        scored = self.score(prompt_objects, completions)
        raw = scored["total"]
        scores = apply_missing_eos(self.normalizer(raw), responses.has_eos, config.missing_eos_score).to(self.device)

        beta = self.kl.value
        kl_tokens = per_token_kl(rollout["logprobs"], rollout["ref_logprobs"], config.kl_estimator) * maskf
        rewards, non_score = shaped_rewards(scores, kl_tokens, mask, beta)
        if config.whiten_rewards:
            rewards = masked_whiten(rewards, mask, shift_mean=False)
        values = rollout["values"] * maskf
        advantages, returns = gae(rewards, values, mask, gamma=config.gamma, lam=config.lam)
        if config.whiten_advantages:
            advantages = masked_whiten(advantages, mask)

        targets = RolloutTargets(responses.batch, mask, rollout["logprobs"], values, advantages, returns)
        stats = ppo_update(
            self.model, config, targets, optimizer=self.optimizer, scaler=self.scaler, parameters=self.parameters,
            autocast=self._autocast,
        )  # fmt: skip
        learning_rate = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        kl_per_response = kl_tokens.sum(1).mean().item()
        self.kl.update(kl_per_response, config.rollout_batch_size)
        seconds = time.perf_counter() - started
        tokens = int(responses.batch.attention_mask.sum())
        metrics = {
            "score": raw.mean().item(),
            "rlhf_reward": (scores + non_score.sum(1)).mean().item(),
            "non_score_reward": non_score.sum(1).mean().item(),
            "kl": kl_per_response,
            "kl_coef": beta,
            "response_length": responses.lengths.float().mean().item(),
            "eos_rate": responses.has_eos.float().mean().item(),
            "value_mean": masked_mean(values, mask).item(),
            "learning_rate": learning_rate,
            "tokens_per_second": tokens / seconds,
            "step_seconds": seconds,
            **stats,
        }
        if len(scored) > 2:
            metrics.update(
                score_reward_model=scored["reward_model"].mean().item(), score_function=scored["function"].mean().item()
            )
        self.last_samples = [
            {"prompt": policy_text(self.tokenizer, p)[-500:], "completion": c, "score": float(s)}
            for p, c, s in list(zip(prompt_objects, completions, raw.tolist(), strict=True))[:4]
        ]
        return metrics

    # --- evaluation on held-out prompts -----------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Sample for the validation prompts in a forked RNG, so evaluating never changes the training stream."""
        prompts = self.prompts.validation[: self.config.rollout_batch_size]
        encoded = encode_prompts(self.tokenizer, prompts, self.prompt_budget)
        devices = list(range(torch.cuda.device_count())) if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            responses, completions = self.rollout(prompts, encoded)
        raw = self.score(prompts, completions)["total"]
        return {
            "eval_score": raw.mean().item(),
            "eval_response_length": responses.lengths.float().mean().item(),
            "eval_eos_rate": responses.has_eos.float().mean().item(),
        }

    # --- checkpoints --------------------------------------------------------------------------------------------
    def save(self) -> None:
        with self.store.write(self.step) as folder:
            save_checkpoint(
                folder, step=self.step, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
                scaler=self.scaler,
                extra={"kl": self.kl.state_dict(), "normalizer": self.normalizer.state_dict(),
                       "sampler": self.sampler.state_dict(), "history": self.history, "config": to_dict(self.config)},
            )  # fmt: skip
        self.saved_step = self.step

    def resume(self) -> None:
        self.saved_step = 0
        latest = self.store.latest()
        if latest is None:
            return
        step, folder = latest
        state = load_checkpoint(
            folder, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler, scaler=self.scaler
        )
        self.kl.load_state_dict(state["kl"])
        self.normalizer.load_state_dict(state["normalizer"])
        self.sampler.load_state_dict(state["sampler"])
        self.history = defaultdict(list, state.get("history", {}))
        self.step = self.saved_step = step
        self.ctx.log(f"resuming PPO from checkpoint step-{step}")

    # --- the loop -------------------------------------------------------------------------------------------------
    def check_cancelled(self) -> None:
        try:
            self.ctx.check_cancelled()
        except JobCancelled:
            if self.step > self.saved_step:
                self.save()
            raise

    def train(self) -> None:
        config = self.config
        self.resume()
        self.ctx.log(
            f"PPO: {self.steps} steps of {config.rollout_batch_size} rollouts ({len(self.prompts.train)} prompts), "
            f"{config.ppo_epochs} epochs x {config.num_minibatches} minibatches, {self.precision} on {self.device}, "
            f"peft {config.peft.method}, critic {config.value_model}, KL {config.kl_control} {config.kl_coef}"
        )
        while self.step < self.steps:
            self.check_cancelled()
            metrics = self.ppo_step()
            self.step += 1
            for key in ("score", "kl", "step_seconds"):
                self.history[key].append(metrics[key])
            if config.eval_steps and self.prompts.validation and self.step % config.eval_steps == 0:
                metrics.update(self.evaluate())
            if self.step % config.logging_steps == 0 or self.step == self.steps:
                self.ctx.metrics(self.step, metrics)
            self.ctx.progress(self.step, self.steps, f"step {self.step}: score {metrics['score']:.3f}")
            if self.step % config.save_steps == 0 and self.step < self.steps:
                self.save()
        self.ctx.report("samples", getattr(self, "last_samples", []))

    def save_outputs(self, parents: list[str]) -> ArtifactSpec:
        is_adapter = self.config.peft.method != "none"
        out = self.ctx.folder / ("adapter" if is_adapter else "model")
        self.model.policy.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return ArtifactSpec(
            "adapter" if is_adapter else "model",
            out,
            name="ppo",
            parents=parents,
            metadata={
                "method": "ppo",
                "peft": self.config.peft.method,
                "value_model": self.config.value_model,
                "reward_function": self.config.reward_function,
                "kl_coef_final": self.kl.value,
            },
        )

    def summary(self) -> dict:
        history = self.history
        first, last = history.get("score", [None]), history.get("score", [None])
        return {
            "steps": self.step,
            "prompts": len(self.prompts.train),
            "rollout_batch_size": self.config.rollout_batch_size,
            "score_first": first[0],
            "score_last": last[-1],
            "kl_last": history["kl"][-1] if history.get("kl") else None,
            "kl_coef_final": self.kl.value,
            "seconds_per_step": sum(history["step_seconds"]) / max(1, len(history["step_seconds"])),
        }


def train_ppo(config, ctx) -> RunResult:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ValueError("ppo runs in one process: launch it without several processes or hosts")
    policy_path = ctx.resolve_input(config.model, "model|adapter")
    reward_path = ctx.resolve_input(config.reward_model, "model") if config.reward_model else None
    data_path = ctx.resolve_input(config.dataset, "snapshot:preferences|snapshot:sft")
    prompts = load_prompts(data_path)
    trainer = PpoTrainer(config, ctx, policy_path=policy_path, reward_path=reward_path, prompts=prompts)
    trainer.train()
    parents = [ref for ref in (config.model, config.reward_model, config.dataset) if ref]
    spec = trainer.save_outputs(parents)
    return RunResult(summary=trainer.summary(), artifacts=[spec])
