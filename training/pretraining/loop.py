"""The pretraining loop (nanoGPT's discipline, Hugging Face models): one process or many under torchrun."""

import contextlib
import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from ..runners.base import ArtifactSpec, CheckpointStore, JobCancelled, RunResult
from . import checkpoint
from .cpu_defaults import cpu_threads
from .data import PackedWindows, TokenSplit
from .distributed import DistEnv
from .final import sample_completions, save_final_model
from .hardware import peak_flops
from .models import build_model, decoder_layers, training_flops_per_token
from .optim import build_optimizer, lr_multiplier
from .precision import autocast, choose_precision, grad_scaler
from .zero import ZeroEngine, engine_config, zero_stage


class NonFiniteLossError(RuntimeError):
    pass


def train(config, ctx) -> RunResult:
    env = DistEnv.from_env()
    try:
        with contextlib.ExitStack() as cleanup:  # DeepSpeed's engine is closed even when setup fails after it
            return Pretrainer(config, ctx, env, cleanup).run()
    finally:
        env.shutdown()


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in fp32 over the positions whose label is not -100."""
    return F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=-100)


class Pretrainer:
    _cross_entropy = staticmethod(token_cross_entropy)

    def __init__(self, config, ctx, env: DistEnv, cleanup: contextlib.ExitStack):
        self.config, self.ctx, self.env = config, ctx, env
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        torch.set_num_threads(config.num_threads or max(1, cpu_threads() // local_world))
        self.device = env.device()
        self.objective = config.resolved_objective
        self.shards = Path(ctx.resolve_input(config.input, "token_shards"))
        meta = json.loads((self.shards / "meta.json").read_text())
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.shards / meta.get("tokenizer", "../tokenizer"))
        self.train_data = PackedWindows(TokenSplit(self.shards, "train"), config.seq_len, config.seed)
        try:
            self.val_data = PackedWindows(TokenSplit(self.shards, "validation"), config.seq_len, config.seed + 1)
        except (FileNotFoundError, ValueError):
            self.val_data = None
        if config.curriculum:
            self.train_data.easy_order()  # fail now, with the reason, if the shards carry no difficulty

        self.model = build_model(config, self.tokenizer).to(self.device)
        if config.activation_checkpointing:
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.n_params = sum(p.numel() for p in {id(p): p for p in self.model.parameters()}.values())
        self.flops_per_token = training_flops_per_token(self.model, config.seq_len)
        self.precision = choose_precision(config.precision, self.device, cpu_bf16=True)
        self.sharded = env.enabled and config.distributed == "fsdp"
        per_micro = config.seq_len * config.micro_batch_size * env.world_size
        self.accum = max(1, round(config.global_batch_tokens / per_micro))
        self.tokens_per_step = per_micro * self.accum
        self.store = CheckpointStore(ctx.folder, keep=config.keep_checkpoints)
        latest = self.store.latest()
        self.zero: ZeroEngine | None = None
        stage = zero_stage(config.distributed)
        if stage:
            # DeepSpeed ZeRO: it wraps our model and AdamW; weights go in before it partitions them.
            saved = checkpoint.read(latest[1]) if latest is not None else None
            if saved is not None:
                self.model.load_state_dict(saved[0])
            self.optimizer = build_optimizer(self.model, config, self.device)
            ds = engine_config(
                config, stage=stage, accumulation=self.accum, precision=self.precision, device=self.device
            )
            self.zero = ZeroEngine(self.model, self.optimizer, ds, choice=config.distributed)
            cleanup.callback(self.zero.close)
            self.train_model = self.zero.engine
        else:
            # Wrap before building the optimizer: FSDP2 replaces parameters with sharded ones in place.
            self.train_model = self._wrap(self.model)
            self.optimizer = build_optimizer(self.model, config, self.device)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_multiplier(s, config))
        # DeepSpeed scales fp16 losses itself.
        self.scaler = grad_scaler("fp32" if self.zero else self.precision, self.device)
        self.state = {
            "step": 0,
            "position": 0,
            "tokens": 0,
            "nonfinite_in_a_row": 0,
            "skipped_steps": 0,
            "best_val_loss": None,
            "best_step": None,
        }
        if latest is not None and self.zero is not None:
            self.zero.load_state(saved[0], saved[1]["optimizer"])
            self.state = checkpoint.restore_rest(saved[1], scheduler=self.scheduler, scaler=self.scaler)
            self._log(f"resumed from checkpoint at step {self.state['step']}")
        elif latest is not None:
            self.state = checkpoint.load(
                latest[1],
                model=self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                scaler=self.scaler,
                sharded=self.sharded,
            )
            self._log(f"resumed from checkpoint at step {self.state['step']}")
        self.peak, self.peak_source = peak_flops(self.device.type, self.precision)
        self._val_bytes: int | None = None

    # --- setup --------------------------------------------------------------------------------------------------
    def _wrap(self, model):
        if self.env.enabled:
            if self.config.distributed == "fsdp":
                from torch.distributed.fsdp import fully_shard

                for layer in decoder_layers(model):
                    fully_shard(layer)
                fully_shard(model)
            else:
                ids = [self.env.local_rank] if self.device.type == "cuda" else None
                model = DistributedDataParallel(model, device_ids=ids)
        if self.config.compile:
            model = torch.compile(model)
            # The loss compiled too: the fp32 upcast, log-softmax and their backward fuse into a pass or two over
            # the logits instead of several full fp32 copies (vocab x tokens: gigabytes per micro-batch on a GPU).
            self._cross_entropy = torch.compile(token_cross_entropy)
        return model

    def _log(self, line: str) -> None:
        if self.env.is_main:
            self.ctx.log(line)

    # --- the loop -----------------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        c = self.config
        self._log(
            f"{c.architecture} {self.n_params / 1e6:.1f}M params, {self.objective}, precision {self.precision}, "
            f"{self.env.world_size} process(es), accumulation {self.accum}, {self.tokens_per_step} tokens/step, "
            f"peak {self.peak / 1e9:.0f} GFLOP/s ({self.peak_source})"
        )
        last = None
        while self.state["step"] < c.max_steps:
            if self.env.any(self._cancel_requested()):
                self._checkpoint()
                raise JobCancelled()
            last = self._train_step()
            step = self.state["step"]
            if c.eval_every and step % c.eval_every == 0 and step < c.max_steps:
                self._evaluate()
            if c.checkpoint_every and step % c.checkpoint_every == 0 and step < c.max_steps:
                self._checkpoint()
        final_eval = self._evaluate()
        self._checkpoint()
        return self._finish(last or {}, final_eval)

    def _cancel_requested(self) -> bool:
        if not self.env.is_main:
            return False
        try:
            self.ctx.check_cancelled()
        except JobCancelled:
            return True
        return False

    def _micro_batch(self, micro: int) -> np.ndarray:
        c, env = self.config, self.env
        first = self.state["position"] + (micro * env.world_size + env.rank) * c.micro_batch_size
        total_warm = c.curriculum_warmup_fraction * c.max_steps
        if c.curriculum and self.state["step"] < total_warm:
            start = 0.1
            fraction = start + (1 - start) * self.state["step"] / max(1.0, total_warm)
            return self.train_data.curriculum_batch(first, c.micro_batch_size, fraction)
        return self.train_data.batch(first, c.micro_batch_size)

    def _loss(self, model, samples: np.ndarray, *, seed_parts: tuple[int, ...]) -> tuple[torch.Tensor, int]:
        tokens = torch.from_numpy(samples)
        if self.device.type == "cuda":  # pinned, so the copy overlaps the GPU's work instead of waiting for it
            tokens = tokens.pin_memory().to(self.device, non_blocking=True)
        else:
            tokens = tokens.to(self.device)
        with autocast(self.precision, self.device):
            if self.objective == "mlm":
                inputs, labels = self._mask(tokens[:, :-1], seed_parts)
                logits = model(input_ids=inputs).logits
                return self._cross_entropy(logits, labels), int((labels != -100).sum())
            logits = model(input_ids=tokens[:, :-1], use_cache=False).logits  # training needs no KV cache
            targets = tokens[:, 1:]
            return self._cross_entropy(logits, targets), targets.numel()

    def _mask(self, tokens: torch.Tensor, seed_parts: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """BERT masking (80% [MASK], 10% random, 10% kept), seeded per step so resume replays it exactly."""
        gen = torch.Generator().manual_seed(hash((self.config.seed, *seed_parts)) % (2**63))
        special = torch.tensor(sorted(set(self.tokenizer.all_special_ids)))
        shape = tokens.shape
        chosen = (torch.rand(shape, generator=gen) < self.config.mlm_probability) & ~torch.isin(tokens.cpu(), special)
        labels = torch.where(chosen, tokens.cpu(), torch.full(shape, -100))
        roll = torch.rand(shape, generator=gen)
        random_ids = torch.randint(len(self.tokenizer), shape, generator=gen)
        mask_id = (
            self.tokenizer.mask_token_id if self.tokenizer.mask_token_id is not None else self.tokenizer.unk_token_id
        )
        inputs = tokens.cpu().clone()
        inputs[chosen & (roll < 0.8)] = mask_id
        swap = chosen & (roll >= 0.8) & (roll < 0.9)
        inputs[swap] = random_ids[swap]
        return inputs.to(self.device), labels.to(self.device)

    def _train_step(self) -> dict[str, float]:
        c, env, state = self.config, self.env, self.state
        started = time.perf_counter()
        self.train_model.train()
        total = torch.zeros((), device=self.device)
        for micro in range(self.accum):
            batch, seed_parts = self._micro_batch(micro), (state["step"], micro, env.rank)
            if self.zero is not None:
                loss, _ = self._loss(self.train_model, batch, seed_parts=seed_parts)
                self.zero.backward_and_step(loss)  # steps the optimizer after the last micro-batch
            else:
                sync = micro == self.accum - 1 or not isinstance(self.train_model, DistributedDataParallel)
                with self.train_model.no_sync() if not sync else contextlib.nullcontext():
                    loss, _ = self._loss(self.train_model, batch, seed_parts=seed_parts)
                    self.scaler.scale(loss / self.accum).backward()
            total += loss.detach().float()
        state["position"] += c.micro_batch_size * env.world_size * self.accum
        mean_loss = float(env.mean(total / self.accum))
        lr = self.optimizer.param_groups[0]["lr"]
        if self.zero is not None:
            grad_norm, applied = self.zero.last_step()
            applied = applied and math.isfinite(mean_loss)
        else:
            grad_norm, applied = self._clip_and_step(mean_loss)
        if applied:
            state["nonfinite_in_a_row"] = 0
        else:
            state["nonfinite_in_a_row"] += 1
            state["skipped_steps"] += 1
            self._log(f"step {state['step'] + 1}: non-finite loss/gradient ({mean_loss}); step skipped")
            if state["nonfinite_in_a_row"] >= c.max_nonfinite_steps:
                raise NonFiniteLossError(
                    f"{state['nonfinite_in_a_row']} non-finite losses in a row (last at step {state['step'] + 1}); "
                    "the last good checkpoint is kept. Lower lr, raise warmup_steps or use fp32/bf16."
                )
        if self.zero is None:
            self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        state["step"] += 1
        state["tokens"] += self.tokens_per_step
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        tokens_per_s = self.tokens_per_step / seconds
        mfu = self.flops_per_token * tokens_per_s / (self.peak * env.world_size)
        metrics = {
            "loss": mean_loss,
            "lr": lr,
            "grad_norm": grad_norm,
            "tokens_per_s": tokens_per_s,
            "mfu": mfu,
            "skipped_steps": float(state["skipped_steps"]),
        }
        if env.is_main:
            self.ctx.metrics(state["step"], {k: v for k, v in metrics.items() if math.isfinite(v)})
            self.ctx.progress(state["step"], c.max_steps, f"loss {mean_loss:.3f}")
        return metrics

    def _clip_and_step(self, mean_loss: float) -> tuple[float, bool]:
        """Unscale, clip and step unless the loss or gradient is not finite; the gradient norm and whether it
        stepped (under fp16 the scaler itself skips overflowing steps and lowers its scale)."""
        if not math.isfinite(mean_loss):
            return float("nan"), False
        self.scaler.unscale_(self.optimizer)
        clip = self.config.grad_clip or float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not (math.isfinite(grad_norm) or self.precision == "fp16"):
            return grad_norm, False
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return grad_norm, True

    # --- evaluation, checkpoints, outputs ----------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate(self) -> dict[str, float]:
        if self.val_data is None:
            return {}
        c = self.config
        self.train_model.eval()
        total, count, n_bytes = 0.0, 0, 0
        for i in range(c.eval_batches):
            samples = self.val_data.batch(i * c.micro_batch_size, c.micro_batch_size)
            loss, n = self._loss(self.train_model, samples, seed_parts=(-1, i, 0))
            total += float(loss) * n
            count += n
            if self._val_bytes is None and self.objective == "clm":
                n_bytes += sum(len(self.tokenizer.decode(row[1:]).encode("utf-8")) for row in samples)
        if self._val_bytes is None:
            self._val_bytes = n_bytes
        val_loss = total / max(1, count)
        result = {"val_loss": val_loss, "val_perplexity": math.exp(min(val_loss, 50))}
        if self.objective == "clm" and self._val_bytes:
            result["val_bits_per_byte"] = val_loss * count / (math.log(2) * self._val_bytes)
        best = self.state["best_val_loss"]
        if best is None or val_loss < best:
            self.state["best_val_loss"], self.state["best_step"] = val_loss, self.state["step"]
        if self.env.is_main:
            self.ctx.metrics(self.state["step"], result)
        return result

    def _full_state(self) -> tuple[dict, dict]:
        """Full model and optimizer state dicts (collective under FSDP and ZeRO: every rank calls it)."""
        if self.zero is not None:
            return self.zero.full_state(keep=self.env.is_main)
        return checkpoint.full_state(self.model, self.optimizer, sharded=self.sharded)

    def _checkpoint(self) -> None:
        model_state, optimizer_state = self._full_state()
        if self.env.is_main:
            protect = {self.state["best_step"]} if self.state["best_step"] is not None else set()
            with self.store.write(self.state["step"], protect=protect) as folder:
                checkpoint.save(
                    folder,
                    model_state=model_state,
                    optimizer_state=optimizer_state,
                    scheduler=self.scheduler,
                    scaler=self.scaler,
                    trainer=dict(self.state),
                    config=asdict(self.config),
                )
        self.env.barrier()

    def _finish(self, last: dict[str, float], final_eval: dict[str, float]) -> RunResult:
        out = self.ctx.folder / "model"
        samples: list[dict] = []
        model_state = self._full_state()[0] if self.sharded or self.zero is not None else None
        if self.env.is_main:
            model = self.model
            if self.zero is not None:
                # ZeRO holds partitioned (stage 3) or bf16/fp16 weights: save and sample an fp32 model with the
                # gathered master weights, as the other strategies do.
                model = build_model(self.config, self.tokenizer)
                model.load_state_dict(model_state)
                model.to(self.device)
                model_state = None
            save_final_model(model, self.tokenizer, out, self.config.sample_max_new_tokens, state_dict=model_state)
            if self.objective == "clm" and not self.sharded:
                samples = sample_completions(model, self.tokenizer, self.config, self.device)
                self.ctx.report("samples", samples)
        self.env.barrier()
        summary = {
            "steps": self.state["step"],
            "tokens": self.state["tokens"],
            "skipped_steps": self.state["skipped_steps"],
            "final_loss": last.get("loss"),
            "tokens_per_s": last.get("tokens_per_s"),
            "mfu": last.get("mfu"),
            "precision": self.precision,
            "parameters": self.n_params,
            "world_size": self.env.world_size,
            "best_val_loss": self.state["best_val_loss"],
            **final_eval,
        }
        metadata = {
            "architecture": self.config.architecture,
            "objective": self.objective,
            "parameters": self.n_params,
            "seq_len": self.config.seq_len,
            **{k: v for k, v in final_eval.items()},
        }
        artifacts = [
            ArtifactSpec(
                "model",
                out,
                name=f"{self.config.architecture}-{self.config.preset}",
                parents=[self.config.input],
                metadata=metadata,
            )
        ]
        return RunResult(summary=summary, artifacts=artifacts if self.env.is_main else [])
