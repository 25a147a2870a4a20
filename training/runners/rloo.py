"""``rloo``: REINFORCE Leave-One-Out with TRL's RLOOTrainer (same config as grpo)."""

from .grpo import GroupRlConfig
from .grpo import run_rloo as run

__all__ = ["GroupRlConfig", "run"]

if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(GroupRlConfig, run))
