"""DeepSpeed ZeRO-2/3 for pretraining, behind the same checkpoints as DDP and FSDP.

DeepSpeed runs the engine (partitioned fp32 master weights and AdamW state, stage 3 also partitions the weights;
optionally both offloaded to CPU memory); plumbline keeps its own checkpoint format: full fp32 weights in safetensors
and a plain ``torch.optim.AdamW`` state dict, gathered from the partitions. So a ZeRO checkpoint resumes under ZeRO
(any world size), DDP or one process alike, and the model page, generation and later jobs read the same files as
after any other strategy. The optimizer stays ours (AdamW with our parameter groups); our loop steps the learning
rate schedule, as it does for the other strategies, so skipped steps count the same way everywhere.
"""

import math
import os
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ..configs import ConfigError

STAGES = {"deepspeed_zero2": 2, "deepspeed_zero3": 3}
ADAM_STATE = ("exp_avg", "exp_avg_sq")


def zero_stage(distributed: str) -> int | None:
    return STAGES.get(distributed)


def import_deepspeed(choice: str):
    """DeepSpeed, or a ConfigError naming the field and the install step (it is an optional extra)."""
    try:
        import deepspeed
    except ImportError as exc:
        raise ConfigError(
            f"{choice} needs DeepSpeed on the worker: pip install -e '.[deepspeed]' ({exc})", "distributed"
        ) from None
    import logging

    deepspeed.utils.logger.setLevel(logging.WARNING)  # its INFO lines would drown the job log
    return deepspeed


def engine_config(config, *, stage: int, accumulation: int, precision: str, device: torch.device) -> dict[str, Any]:
    """The DeepSpeed config for the job: batch shape, clipping, precision, ZeRO stage and offload."""
    pin = device.type == "cuda"
    zero: dict[str, Any] = {"stage": stage}
    if config.zero_offload in ("optimizer", "optimizer_and_params"):
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": pin}
    if config.zero_offload == "optimizer_and_params":
        zero["offload_param"] = {"device": "cpu", "pin_memory": pin}
    ds: dict[str, Any] = {
        "train_micro_batch_size_per_gpu": config.micro_batch_size,
        "gradient_accumulation_steps": accumulation,
        "gradient_clipping": float(config.grad_clip),
        "zero_optimization": zero,
        # Our AdamW also steps offloaded partitions (fused on CPU), instead of DeepSpeed's compiled CPU Adam.
        "zero_force_ds_cpu_optimizer": False,
        "steps_per_print": 2**31 - 1,
        "wall_clock_breakdown": False,
    }
    if precision == "bf16":
        ds["bf16"] = {"enabled": True}  # bf16 weights, fp32 master copies; steps with inf/NaN gradients are skipped
    elif precision == "fp16":
        ds["fp16"] = {"enabled": True, "loss_scale": 0, "initial_scale_power": 16}  # dynamic loss scaling
    return ds


class ZeroEngine:
    """The DeepSpeed engine around our model and AdamW, plus the gather/scatter that keeps checkpoints ours."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, ds_config: dict, *, choice: str):
        deepspeed = import_deepspeed(choice)
        # Taken before DeepSpeed partitions anything: names to the very Parameter objects (it keeps them, changing
        # their storage), and our parameter groups, whose order numbers the params in a torch optimizer state dict.
        self.named = model.state_dict(keep_vars=True)
        self.buffer_dtypes = {k: v.dtype for k, v in self.named.items() if not isinstance(v, nn.Parameter)}
        self.groups = [list(group["params"]) for group in optimizer.param_groups]
        self.adamw = optimizer
        self.owns_process_group, self.set_local_rank = _ensure_process_group()
        try:
            self.engine, self.zero_optimizer, _, _ = deepspeed.initialize(
                model=model, optimizer=optimizer, config=ds_config
            )
        except BaseException:
            self._release_process()
            raise

    # --- training -------------------------------------------------------------------------------------------------
    def backward_and_step(self, loss: torch.Tensor) -> None:
        """One micro-batch: DeepSpeed divides by the accumulation and steps the optimizer on the last one."""
        self.engine.backward(loss)
        self.engine.step()

    def last_step(self) -> tuple[float, bool]:
        """The pre-clipping gradient norm of the last optimizer step and whether it was applied (DeepSpeed skips
        steps whose gradients are not finite)."""
        norm = self.engine.get_global_grad_norm()
        norm = float(norm) if norm is not None else float("nan")
        return norm, bool(self.engine.was_step_applied()) and not math.isinf(norm)

    # --- checkpoints ----------------------------------------------------------------------------------------------
    def full_state(self, *, keep: bool) -> tuple[dict[str, torch.Tensor], dict]:
        """Full fp32 weights and an AdamW state dict, on CPU where ``keep`` (the main process), else empty.

        A collective call: every rank gathers each tensor in the same order; only the keeper holds them on CPU, so
        no rank but it ever has more than one full tensor in memory.
        """
        from deepspeed.utils import safe_get_full_fp32_param, safe_get_full_optimizer_state

        full: dict[int, torch.Tensor | None] = {}
        model_state: dict[str, torch.Tensor] = {}
        for name, var in self.named.items():
            if isinstance(var, nn.Parameter):
                if id(var) not in full:  # tied weights: gathered once, saved under both names
                    value = safe_get_full_fp32_param(var)
                    full[id(var)] = value.detach().cpu() if keep else None
                tensor = full[id(var)]
            else:
                tensor = var.detach().to(self.buffer_dtypes[name]).cpu() if keep else None
            if keep:
                model_state[name] = tensor

        step = self._adam_step()
        if step is not None:
            self._link_adam_state()
        state, param_groups, index = {}, [], 0
        for group, params in zip(self.adamw.param_groups, self.groups, strict=True):
            ids = []
            for param in params:
                if step is not None:
                    moments = {key: safe_get_full_optimizer_state(param, key) for key in ADAM_STATE}
                    if keep:
                        state[index] = {"step": step.clone(), **{k: v.detach().cpu() for k, v in moments.items()}}
                ids.append(index)
                index += 1
            param_groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        if not keep:
            return {}, {}
        return model_state, {"state": state, "param_groups": param_groups}

    def load_state(self, model_state: dict[str, torch.Tensor], optimizer_state: dict) -> None:
        """Scatter full fp32 weights and an AdamW state dict into the partitions (every rank, after initialize).

        The weights were also loaded into the model before ``initialize``; writing the fp32 masters again keeps them
        exact where DeepSpeed keeps bf16/fp16 weights (it made the masters from the rounded copies).
        """
        from deepspeed.utils import safe_set_full_fp32_param, safe_set_full_optimizer_state

        done: set[int] = set()
        for name, var in self.named.items():
            if isinstance(var, nn.Parameter) and id(var) not in done:
                done.add(id(var))
                safe_set_full_fp32_param(var, model_state[name].to(torch.float32))
        saved_groups = optimizer_state["param_groups"]
        if len(saved_groups) != len(self.adamw.param_groups):
            raise ValueError("the checkpoint's optimizer has other parameter groups than this model's")
        for group, saved in zip(self.adamw.param_groups, saved_groups, strict=True):
            group.update({k: v for k, v in saved.items() if k != "params"})
        states = optimizer_state["state"]
        if not states:
            return  # saved before the first optimizer step: nothing to restore but the hyperparameters
        self._create_adam_state(float(next(iter(states.values()))["step"]))
        index = 0
        for params in self.groups:
            for param in params:
                for key in ADAM_STATE:
                    safe_set_full_optimizer_state(param, states[index][key].to(torch.float32), key)
                index += 1

    def _flat_partitions(self) -> list[torch.Tensor]:
        """This rank's flat fp32 partitions: the tensors our AdamW actually steps."""
        zero = self.zero_optimizer
        flats = getattr(zero, "fp32_partitioned_groups_flat", None)  # stage 3
        return list(flats if flats is not None else zero.single_partition_of_fp32_groups)  # stages 1 and 2

    def _adam_step(self) -> torch.Tensor | None:
        for flat in self._flat_partitions():
            if "step" in self.adamw.state.get(flat, {}):
                return self.adamw.state[flat]["step"].detach().cpu()
        return None

    def _create_adam_state(self, step: float) -> None:
        """AdamW creates its state on its first step; resume needs it before, so build it as AdamW would."""
        group = self.adamw.param_groups[0]
        on_device = bool(group.get("fused") or group.get("capturable"))
        for flat in self._flat_partitions():
            self.adamw.state[flat] = {
                "step": torch.tensor(step, dtype=torch.float32, device=flat.device if on_device else "cpu"),
                "exp_avg": torch.zeros_like(flat, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(flat, memory_format=torch.preserve_format),
            }
        self._link_adam_state()

    def _link_adam_state(self) -> None:
        """Stages 1 and 2 map each parameter's fragment onto the AdamW state, once, right after the first step of
        the first parameter group, before the other groups have state: map again now that all of them do."""
        link = getattr(self.zero_optimizer, "_lazy_init_hp_params_optimizer_state", None)
        if link is not None:
            self.zero_optimizer._hp_optimizer_states_linked = False
            link()

    def close(self) -> None:
        try:
            self.engine.destroy()
        finally:
            self._release_process()

    def _release_process(self) -> None:
        """Undo ``_ensure_process_group``."""
        if self.set_local_rank:
            os.environ.pop("LOCAL_RANK", None)
        if self.owns_process_group and dist.is_initialized():
            import deepspeed.comm

            if deepspeed.comm.is_initialized():  # also drops its cached groups, which a next job would trip on
                deepspeed.comm.destroy_process_group()
            else:
                dist.destroy_process_group()


def _ensure_process_group() -> tuple[bool, bool]:
    """DeepSpeed needs a process group and LOCAL_RANK; a single process (ZeRO-Offload on one GPU) gets a private
    one-rank group, made here so DeepSpeed does not go looking for an MPI launcher. Says whether this call made the
    group and set LOCAL_RANK (``close`` undoes them: a Celery worker runs later jobs in the same process, and a
    stray LOCAL_RANK would tell accelerate that it runs under a launcher)."""
    set_local_rank = "LOCAL_RANK" not in os.environ
    if set_local_rank:
        os.environ["LOCAL_RANK"] = "0"
    if dist.is_initialized():
        return False, set_local_rank
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend, store=dist.HashStore(), rank=0, world_size=1)
    return True, set_local_rank
