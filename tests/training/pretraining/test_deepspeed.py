"""DeepSpeed ZeRO on CPU (its CPU accelerator, gloo): two ZeRO-2 processes reach the same losses as one plain process
with the same global batch and write the very checkpoint DDP would (full fp32 weights, a torch AdamW state dict);
ZeRO-3 resumes from it exactly; one process runs ZeRO with CPU offload in-process and skips non-finite steps."""

import importlib.util
import math
import os
import shutil
import sys

import pytest

from training.configs import ConfigError, from_dict
from training.runners.cli import LocalContext
from training.runners.pretrain import PretrainConfig, run

from .test_distributed import torchrun
from .test_pretrain_runner import BASE, losses

needs_deepspeed = pytest.mark.skipif(
    importlib.util.find_spec("deepspeed") is None, reason="needs DeepSpeed (pip install -e '.[deepspeed]')"
)
# fp32 on every CPU: DeepSpeed's bf16 keeps bf16 weights, the plain run autocasts fp32 ones, so only fp32 compares.
# 1024 tokens a step: accumulation 4 in one process, 2 in each of two.
EXACT = {
    **BASE,
    "precision": "fp32",
    "global_batch_tokens": 1024,
    "max_steps": 8,
    "checkpoint_every": 4,
    "eval_every": 4,
}


def test_config_rules():
    with pytest.raises(ConfigError, match="zero_offload"):
        from_dict(PretrainConfig, {"zero_offload": "optimizer"})
    with pytest.raises(ConfigError, match="needs deepspeed_zero3"):
        from_dict(PretrainConfig, {"distributed": "deepspeed_zero2", "zero_offload": "optimizer_and_params"})
    with pytest.raises(ConfigError, match="optimizer"):
        from_dict(PretrainConfig, {"distributed": "deepspeed_zero2", "optimizer": "adamw_8bit"})
    with pytest.raises(ConfigError, match="compile"):
        from_dict(PretrainConfig, {"distributed": "deepspeed_zero3", "compile": True})
    from_dict(PretrainConfig, {"distributed": "deepspeed_zero3", "zero_offload": "optimizer_and_params"})


def test_engine_config_follows_the_job():
    import torch

    from training.pretraining.zero import engine_config

    cfg = from_dict(
        PretrainConfig,
        {"distributed": "deepspeed_zero3", "zero_offload": "optimizer_and_params", "micro_batch_size": 3},
    )
    ds = engine_config(cfg, stage=3, accumulation=5, precision="bf16", device=torch.device("cpu"))
    assert ds["train_micro_batch_size_per_gpu"] == 3 and ds["gradient_accumulation_steps"] == 5
    assert ds["gradient_clipping"] == 1.0 and ds["bf16"] == {"enabled": True} and "fp16" not in ds
    assert ds["zero_optimization"] == {
        "stage": 3,
        "offload_optimizer": {"device": "cpu", "pin_memory": False},
        "offload_param": {"device": "cpu", "pin_memory": False},
    }
    plain = from_dict(PretrainConfig, {"distributed": "deepspeed_zero2", "grad_clip": 0})
    ds = engine_config(plain, stage=2, accumulation=1, precision="fp16", device=torch.device("cuda", 0))
    assert ds["zero_optimization"] == {"stage": 2} and ds["gradient_clipping"] == 0.0 and ds["fp16"]["enabled"]
    assert "bf16" not in engine_config(plain, stage=2, accumulation=1, precision="fp32", device=torch.device("cpu"))


def test_missing_deepspeed_is_a_config_error(monkeypatch):
    from training.pretraining.zero import import_deepspeed

    monkeypatch.setitem(sys.modules, "deepspeed", None)  # what an environment without the extra sees
    with pytest.raises(ConfigError, match=r"deepspeed_zero2 needs DeepSpeed.*\[deepspeed\]") as caught:
        import_deepspeed("deepspeed_zero2")
    assert caught.value.field == "distributed"


@pytest.fixture(scope="module")
def plain_run(token_shards, tmp_path_factory):
    """The reference: one plain process, fp32, the same global batch."""
    ctx = LocalContext(tmp_path_factory.mktemp("plain") / "run", show_progress=False)
    run(from_dict(PretrainConfig, {**EXACT, "input": str(token_shards)}), ctx)
    return ctx


def optimizer_and_weights(folder):
    import torch
    from safetensors.torch import load_file

    state = torch.load(folder / "trainer_state.pt", weights_only=False)
    return state["optimizer"], load_file(str(folder / "model.safetensors"))


def assert_same_checkpoint(a, b, tol):
    (opt_a, w_a), (opt_b, w_b) = optimizer_and_weights(a), optimizer_and_weights(b)
    assert sorted(w_a) == sorted(w_b)
    for name in w_a:
        assert (w_a[name] - w_b[name]).abs().max() <= tol, name
    assert opt_a["state"].keys() == opt_b["state"].keys() and len(opt_a["param_groups"]) == 2
    for index, state in opt_a["state"].items():
        assert float(state["step"]) == float(opt_b["state"][index]["step"])
        for key in ("exp_avg", "exp_avg_sq"):
            assert (state[key] - opt_b["state"][index][key]).abs().max() <= tol, (index, key)
    for group_a, group_b in zip(opt_a["param_groups"], opt_b["param_groups"], strict=True):
        assert group_a == group_b


@needs_deepspeed
@pytest.mark.slow
def test_zero2_matches_one_process_and_zero3_resumes_its_checkpoint(plain_run, token_shards, tmp_path):
    from transformers import AutoModelForCausalLM

    cfg = {**EXACT, "input": str(token_shards)}
    out = tmp_path / "zero"
    first = torchrun({**cfg, "distributed": "deepspeed_zero2"}, out, tmp_path)
    one = losses(plain_run)
    assert sorted(first) == sorted(one) == list(range(1, 9))
    for step in one:
        assert first[step] == pytest.approx(one[step], abs=2e-4), step
    assert "2 process(es), accumulation 2" in (out / "run.log").read_text()
    # The checkpoint is plumbline's own: the one the plain process wrote (weights, AdamW moments, groups).
    assert_same_checkpoint(out / "checkpoints" / "step-4", plain_run.folder / "checkpoints" / "step-4", tol=1e-5)

    # Lose the last checkpoint; ZeRO-3 (weights partitioned too) resumes from ZeRO-2's and replays steps 5-8.
    shutil.move(out / "checkpoints" / "step-8", tmp_path / "zero2-step-8")
    replayed = torchrun({**cfg, "distributed": "deepspeed_zero3"}, out, tmp_path)
    assert "resumed from checkpoint at step 4" in (out / "run.log").read_text()
    for step in range(5, 9):
        assert replayed[step] == pytest.approx(first[step], abs=1e-5), step
    assert_same_checkpoint(out / "checkpoints" / "step-8", tmp_path / "zero2-step-8", tol=1e-5)
    AutoModelForCausalLM.from_pretrained(out / "model")  # gathered from the partitions, fp32, loads as usual


@needs_deepspeed
def test_one_process_with_cpu_offload_in_process(plain_run, token_shards, tmp_path):
    """A single process (ZeRO-Offload on one GPU) runs in the worker's own process and leaves it as it found it."""
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM

    ctx = LocalContext(tmp_path / "offload", show_progress=False)
    cfg = {**EXACT, "input": str(token_shards), "distributed": "deepspeed_zero2", "zero_offload": "optimizer"}
    result = run(from_dict(PretrainConfig, cfg), ctx)
    one, zero = losses(plain_run), losses(ctx)
    for step in one:
        assert zero[step] == pytest.approx(one[step], abs=2e-4), step
    assert result.summary["steps"] == 8 and len(ctx.reports["samples"]) == 3
    AutoModelForCausalLM.from_pretrained(result.artifacts[0].path)
    assert not dist.is_initialized() and "LOCAL_RANK" not in os.environ


@needs_deepspeed
def test_non_finite_steps_are_skipped_under_zero(token_shards, tmp_path, monkeypatch):
    import torch

    from training.pretraining import loop

    real = loop.Pretrainer._loss

    def flaky(self, model, samples, *, seed_parts):
        loss, n = real(self, model, samples, seed_parts=seed_parts)
        return (loss * torch.tensor(float("nan")) if seed_parts[0] in (2, 5, 6, 7) else loss), n

    monkeypatch.setattr(loop.Pretrainer, "_loss", flaky)
    ctx = LocalContext(tmp_path / "nan", show_progress=False)
    cfg = {**EXACT, "input": str(token_shards), "distributed": "deepspeed_zero3", "max_steps": 10}
    with pytest.raises(loop.NonFiniteLossError, match="3 non-finite losses in a row"):
        run(from_dict(PretrainConfig, {**cfg, "max_nonfinite_steps": 3, "checkpoint_every": 2}), ctx)
    assert "step 3: non-finite" in (tmp_path / "nan" / "run.log").read_text()
    curve = losses(ctx)
    assert 3 not in curve and 4 in curve and all(math.isfinite(v) for v in curve.values())  # no NaN reached a weight
    assert (ctx.folder / "checkpoints" / "step-4" / "COMPLETE").exists()


@needs_deepspeed
def test_a_failed_setup_leaves_the_process_clean(token_shards, tmp_path, monkeypatch):
    """A Celery worker runs the next job in the same process: no process group or LOCAL_RANK may be left behind."""
    import deepspeed
    import torch.distributed as dist

    def broken(**kwargs):
        raise RuntimeError("engine setup failed")

    monkeypatch.setattr(deepspeed, "initialize", broken)
    ctx = LocalContext(tmp_path / "broken", show_progress=False)
    with pytest.raises(RuntimeError, match="engine setup failed"):
        run(from_dict(PretrainConfig, {**EXACT, "input": str(token_shards), "distributed": "deepspeed_zero2"}), ctx)
    assert not dist.is_initialized() and "LOCAL_RANK" not in os.environ
