"""A job kind for testing the job system itself: N deterministic units of work with checkpoints.

It exercises the whole runner contract (progress, metrics, logs, reports, cancel, checkpoints, resume, artifacts)
with controllable timing, so the worker tests can cancel or kill it at a known point. Registered for worker
processes through PLUMBLINE_EXTRA_JOB_KINDS=tests.training.steps_runner:KIND.
"""

import hashlib
import json
import time
from dataclasses import dataclass

from training.configs import ConfigError, field
from training.runners import JobKind
from training.runners.base import ArtifactSpec, CheckpointStore, RunResult

KIND = JobKind("test_steps", "tests.training.steps_runner", "StepsConfig", "cpu", "Deterministic steps (tests only).")


@dataclass
class StepsConfig:
    """Deterministic steps with checkpoints."""

    steps: int = field(10, help="units of work")
    seconds_per_step: float = field(0.0, help="sleep per unit")
    fail_at_step: int = field(-1, help="raise at this step (-1: never)")
    checkpoint_every: int = field(1, help="checkpoint interval in steps")

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError("must be at least 1", "steps")


def run(config: StepsConfig, ctx) -> RunResult:
    store = CheckpointStore(ctx.folder, keep=2)
    latest = store.latest()
    step, digest = 0, b""
    if latest is not None:
        saved = json.loads((latest[1] / "state.json").read_text())
        step, digest = saved["step"], bytes.fromhex(saved["digest"])
        ctx.log(f"resumed at step {step}")
    while step < config.steps:
        ctx.check_cancelled()
        if step == config.fail_at_step:
            raise RuntimeError(f"planned failure at step {step}")
        time.sleep(config.seconds_per_step)
        digest = hashlib.sha256(digest + step.to_bytes(8, "big")).digest()
        step += 1
        ctx.metrics(step, {"loss": 1.0 / step, "step_value": float(step)})
        ctx.progress(step, config.steps, f"step {step}")
        if step % config.checkpoint_every == 0:
            with store.write(step) as folder:
                (folder / "state.json").write_text(json.dumps({"step": step, "digest": digest.hex()}))
    out = ctx.folder / "output"
    out.mkdir(exist_ok=True)
    (out / "result.txt").write_text(digest.hex())
    ctx.report("final", {"digest": digest.hex()})
    return RunResult(summary={"steps": step, "digest": digest.hex()}, artifacts=[ArtifactSpec("report", out)])
