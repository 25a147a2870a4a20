"""Checkpoints that let a PPO run continue exactly where it stopped.

A checkpoint holds the trainable tensors (the whole policy under a full fine-tune, only the adapter under LoRA, plus
the value head or critic), the optimizer, scheduler and grad-scaler states, every RNG the loop draws from (sampling,
minibatch shuffles), the KL coefficient, the score normalizer and the prompt position. Written through
``CheckpointStore``, so only complete checkpoints are ever resumed from.
"""

import json
import random
from pathlib import Path

import numpy as np
import torch


class PromptSampler:
    """Rollout prompts as an endless stream of shuffled epochs; epoch e's order is a pure function of (seed, e), so
    the position (epoch, offset) is all a checkpoint needs."""

    def __init__(self, count: int, seed: int):
        if count < 1:
            raise ValueError("the snapshot holds no prompts")
        self.count = count
        self.seed = seed
        self.epoch = 0
        self.offset = 0
        self._order = self._order_of(0)

    def _order_of(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + epoch)
        return torch.randperm(self.count, generator=generator).tolist()

    def take(self, n: int) -> list[int]:
        out = []
        while len(out) < n:
            if self.offset >= self.count:
                self.epoch, self.offset = self.epoch + 1, 0
                self._order = self._order_of(self.epoch)
            grab = min(n - len(out), self.count - self.offset)
            out.extend(self._order[self.offset : self.offset + grab])
            self.offset += grab
        return out

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.offset = int(state["epoch"]), int(state["offset"])
        self._order = self._order_of(self.epoch)


def rng_state() -> dict:
    _mt, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
        "python": json.dumps(random.getstate()),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["gauss"],
        )
    )
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(folder: Path, *, step: int, model, optimizer, scheduler, scaler, extra: dict) -> None:
    trainable = {name: p.detach().cpu().clone() for name, p in model.trainable_named_parameters()}
    torch.save(trainable, folder / "trainable.pt")
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict()},
        folder / "optimizer.pt",
    )
    torch.save(rng_state(), folder / "rng.pt")
    (folder / "state.json").write_text(json.dumps({"step": step, **extra}, indent=1, default=str))


def load_checkpoint(folder: Path, *, model, optimizer, scheduler, scaler) -> dict:
    """Restore tensors, optimizer and RNGs in place; return the JSON state (step, KL, normalizer, sampler)."""
    saved = torch.load(folder / "trainable.pt", map_location="cpu", weights_only=True)
    current = dict(model.trainable_named_parameters())
    if set(saved) != set(current):
        missing, unexpected = sorted(set(current) - set(saved))[:5], sorted(set(saved) - set(current))[:5]
        raise ValueError(
            f"checkpoint {folder.name} does not match this run's trainable parameters (missing {missing}, "
            f"unexpected {unexpected}): was the config changed between attempts?"
        )
    with torch.no_grad():
        for name, tensor in saved.items():
            current[name].copy_(tensor.to(current[name].device))
    states = torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(states["optimizer"])
    scheduler.load_state_dict(states["scheduler"])
    scaler.load_state_dict(states["scaler"])
    set_rng_state(torch.load(folder / "rng.pt", map_location="cpu", weights_only=False))
    return json.loads((folder / "state.json").read_text())
