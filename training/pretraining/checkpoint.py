"""Checkpoints with everything needed to resume exactly: weights (safetensors), optimizer, scheduler, grad scaler,
RNG states, data position, step, counters and the config."""

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(
    folder: Path,
    *,
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict,
    scheduler,
    scaler,
    trainer: dict[str, Any],
    config: dict,
) -> None:
    """Write a checkpoint from full (gathered) state dicts; only the main process calls this."""
    weights = {k: v.detach().contiguous().cpu() for k, v in model_state.items()}
    # Tied weights share storage: safetensors stores each tensor once, keyed by the first name.
    seen, unique = {}, {}
    for name, tensor in weights.items():
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key not in seen:
            seen[key] = name
            unique[name] = tensor
    save_file(unique, str(folder / "model.safetensors"))
    (folder / "tied.json").write_text(json.dumps({n: seen[(t.data_ptr(), tuple(t.shape))] for n, t in weights.items()}))
    torch.save(
        {
            "optimizer": optimizer_state,
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "rng": rng_state(),
            "trainer": trainer,
        },
        folder / "trainer_state.pt",
    )
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def read(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The full model state dict (tied names restored) and the rest (optimizer, scheduler, scaler, RNG, trainer)."""
    unique = load_file(str(folder / "model.safetensors"))
    tied = json.loads((folder / "tied.json").read_text())
    model_state = {name: unique[source] for name, source in tied.items()}
    return model_state, torch.load(folder / "trainer_state.pt", weights_only=False)


def load(folder: Path, *, model, optimizer, scheduler, scaler, sharded: bool = False) -> dict[str, Any]:
    """Restore everything; ``sharded`` models (FSDP2) take the full state dicts through the DCP helpers."""
    model_state, state = read(folder)
    if sharded:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

        set_state_dict(
            model,
            optimizer,
            model_state_dict=model_state,
            optim_state_dict=state["optimizer"],
            options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=False),
        )
    else:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(state["optimizer"])
    return restore_rest(state, scheduler=scheduler, scaler=scaler)


def restore_rest(state: dict[str, Any], *, scheduler, scaler) -> dict[str, Any]:
    """Scheduler, grad scaler and RNG states from ``read``'s second half; returns the trainer's counters."""
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state["trainer"]


def full_state(model, optimizer, *, sharded: bool) -> tuple[dict, dict]:
    """Model and optimizer state dicts as full tensors on CPU (a collective call under FSDP: every rank calls it)."""
    if sharded:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

        return get_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return model.state_dict(), optimizer.state_dict()
