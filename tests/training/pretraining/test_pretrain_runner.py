"""The pretrain runner on a tiny model: learning, exact resume, masked LM, non-finite steps, reload."""

import math

import pytest

from training.configs import from_dict
from training.runners.cli import LocalContext
from training.runners.pretrain import PretrainConfig, run

pytest.importorskip("torch")

BASE = {
    "preset": "tiny",
    "seq_len": 64,
    "micro_batch_size": 4,
    "global_batch_tokens": 512,
    "lr": 3e-3,
    "warmup_steps": 2,
    "eval_every": 0,
    "eval_batches": 2,
    "sample_max_new_tokens": 8,
    "num_threads": 1,
}


def config(shards, **overrides) -> PretrainConfig:
    return from_dict(PretrainConfig, {**BASE, "input": str(shards), **overrides})


def losses(ctx) -> dict[int, float]:
    return {step: value for step, name, value in ctx.metric_points if name == "loss"}


def test_loss_falls_and_model_reloads(token_shards, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ctx = LocalContext(tmp_path / "run", show_progress=False)
    result = run(config(token_shards, max_steps=30, checkpoint_every=10), ctx)
    curve = losses(ctx)
    assert len(curve) == 30 and all(math.isfinite(v) for v in curve.values())
    assert sum(list(curve.values())[-5:]) / 5 < sum(list(curve.values())[:5]) / 5 - 0.5
    assert result.summary["val_loss"] < 7 and result.summary["val_bits_per_byte"] > 0
    assert {name for _, name, _ in ctx.metric_points} >= {"loss", "lr", "grad_norm", "tokens_per_s", "mfu", "val_loss"}
    model_dir = result.artifacts[0].path
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out = model.generate(**tokenizer("The", return_tensors="pt"), max_new_tokens=5, do_sample=False)
    assert out.shape[1] > 1
    assert len(ctx.reports["samples"]) == 3
    kept = sorted(p.name for p in (ctx.folder / "checkpoints").iterdir())
    assert kept == ["step-20", "step-30"]  # keep_checkpoints=2


class CrashAfter(LocalContext):
    def __init__(self, *args, crash_step: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash_step = crash_step

    def metrics(self, step, values):
        super().metrics(step, values)
        if step == self.crash_step and "loss" in values:
            raise RuntimeError("simulated crash")


def test_resume_matches_uninterrupted_run(token_shards, tmp_path):
    cfg = config(token_shards, max_steps=12, checkpoint_every=4, schedule="cosine")
    straight = LocalContext(tmp_path / "straight", show_progress=False)
    run(cfg, straight)
    crashed = CrashAfter(tmp_path / "resumed", show_progress=False, crash_step=7)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg, crashed)
    resumed = LocalContext(tmp_path / "resumed", show_progress=False, attempt=2)
    result = run(cfg, resumed)
    assert "resumed from checkpoint at step 4" in (tmp_path / "resumed" / "run.log").read_text()
    a, b = losses(straight), losses(resumed)
    assert sorted(b) == list(range(5, 13))  # lost steps 5-7: less than one checkpoint interval
    for step in b:
        assert b[step] == pytest.approx(a[step], abs=1e-5), step
    assert result.summary["steps"] == 12


def test_masked_lm_objective(token_shards, tmp_path):
    from transformers import AutoModelForMaskedLM

    ctx = LocalContext(tmp_path / "mlm", show_progress=False)
    result = run(config(token_shards, architecture="bert", max_steps=15, lr=2e-3), ctx)
    curve = list(losses(ctx).values())
    assert all(math.isfinite(v) for v in curve) and curve[-1] < curve[0]
    assert result.summary["val_perplexity"] > 1
    AutoModelForMaskedLM.from_pretrained(result.artifacts[0].path)


def test_gpt2_and_curriculum(token_shards, tmp_path):
    ctx = LocalContext(tmp_path / "gpt2", show_progress=False)
    result = run(config(token_shards, architecture="gpt2", max_steps=6, curriculum=True), ctx)
    assert result.summary["steps"] == 6 and math.isfinite(result.summary["final_loss"])


def test_non_finite_losses_are_skipped_then_fail(token_shards, tmp_path, monkeypatch):
    import torch

    from training.pretraining import loop

    real = loop.Pretrainer._loss
    calls = {"n": 0}

    def flaky(self, model, samples, *, seed_parts):
        loss, n = real(self, model, samples, seed_parts=seed_parts)
        calls["n"] += 1
        step = seed_parts[0]
        return (loss * torch.tensor(float("nan")) if step in (2, 5, 6, 7) else loss), n

    monkeypatch.setattr(loop.Pretrainer, "_loss", flaky)
    ctx = LocalContext(tmp_path / "nan", show_progress=False)
    with pytest.raises(loop.NonFiniteLossError, match="3 non-finite losses in a row"):
        run(config(token_shards, max_steps=10, max_nonfinite_steps=3, checkpoint_every=2), ctx)
    log = (tmp_path / "nan" / "run.log").read_text()
    assert "step 3: non-finite" in log
    assert (ctx.folder / "checkpoints" / "step-4" / "COMPLETE").exists()  # the last good checkpoint is kept


def test_config_validation():
    from training.configs import ConfigError

    with pytest.raises(ConfigError, match="objective"):
        from_dict(PretrainConfig, {"architecture": "llama", "objective": "mlm"})
    with pytest.raises(ConfigError, match="warmup_steps"):
        from_dict(PretrainConfig, {"max_steps": 5, "warmup_steps": 10})
