"""Two processes with the gloo backend on CPU reach the same losses as one process with the same global batch,
under DDP and under FSDP2, and resume from their own checkpoints."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.configs import from_dict
from training.runners.cli import LocalContext
from training.runners.pretrain import PretrainConfig, run

from .test_pretrain_runner import BASE, losses

ROOT = Path(__file__).resolve().parents[3]


def torchrun(cfg: dict, out: Path, tmp_path: Path) -> dict[int, float]:
    config_path = tmp_path / f"{out.name}-{cfg['max_steps']}.json"
    config_path.write_text(json.dumps(cfg))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "training.runners.pretrain", "--config", str(config_path), "--output", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    points = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {p["step"]: p["value"] for p in points if p["name"] == "loss"}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_processes_match_one(token_shards, tmp_path, strategy):
    cfg = {**BASE, "input": str(token_shards), "max_steps": 6, "checkpoint_every": 3, "eval_every": 3}
    single = LocalContext(tmp_path / "single", show_progress=False)
    run(from_dict(PretrainConfig, cfg), single)
    two = torchrun({**cfg, "distributed": strategy}, tmp_path / strategy, tmp_path)
    one = losses(single)
    assert sorted(two) == sorted(one) == list(range(1, 7))
    for step in one:
        assert two[step] == pytest.approx(one[step], abs=2e-4), step
    assert "2 process(es), accumulation 1" in (tmp_path / strategy / "run.log").read_text()
    # A longer run in the same folder resumes from the last checkpoint under the same strategy.
    again = torchrun({**cfg, "distributed": strategy, "max_steps": 7}, tmp_path / strategy, tmp_path)
    assert "resumed from checkpoint at step 6" in (tmp_path / strategy / "run.log").read_text()
    assert 7 in again
