"""DDP with the gloo backend on CPU: 2 processes reach the same losses as 1 process with the same global batch."""

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


@pytest.mark.slow
def test_ddp_two_processes_match_one(token_shards, tmp_path):
    cfg = {**BASE, "input": str(token_shards), "max_steps": 6, "checkpoint_every": 3, "eval_every": 3}
    single = LocalContext(tmp_path / "single", show_progress=False)
    run(from_dict(PretrainConfig, cfg), single)

    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    out = tmp_path / "ddp"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "training.runners.pretrain",
            "--config",
            str(tmp_path / "cfg.json"),
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    ddp = {}
    for line in (out / "metrics.jsonl").read_text().splitlines():
        point = json.loads(line)
        if point["name"] == "loss":
            ddp[point["step"]] = point["value"]
    one = losses(single)
    assert sorted(ddp) == sorted(one) == list(range(1, 7))
    for step in one:
        assert ddp[step] == pytest.approx(one[step], abs=2e-4), step
    assert "2 process(es), accumulation 1" in (out / "run.log").read_text()
