"""plumbline's PPO against trl 1.12.0's ``trl.experimental.ppo.PPOTrainer`` (the last TRL that shipped PPO).

Same tiny Llama (tests/tiny_lm.py), same prompts, same toy reward (1 when the completion starts with a vowel), same
hyperparameters: rollout batch 16, 4 PPO epochs of one minibatch, response length 4, temperature 1, fixed per-token
KL coefficient (k1), GAE (gamma 1, lambda 0.95), advantage whitening, clip 0.2 / 0.2, vf_coef 0.1, a separate critic
initialised from the policy, AdamW at a constant learning rate. Reported per implementation and seed: steps/s (wall
time of rollout + update per PPO step), reward gain (mean score of the last 5 steps minus the first 5) and the KL per
response over the last 5 steps.

trl 1.12 must be installed into a throwaway folder, never into the project's environment:

    .venv/bin/pip install --no-deps --target /tmp/trl112 trl==1.12.0
    .venv/bin/python bench/ppo_reference.py --seeds 3 --steps 40

A third variant, ``trl-nogc``, runs trl with its two ``gc.collect()`` calls per PPO step turned into no-ops: on a
tiny model they are most of its wall time, so the variant shows what the algorithm itself costs. Each run is its own
subprocess (the trl ones put /tmp/trl112 first on sys.path, so they import 1.12 while plumbline keeps the project's
TRL); the implementations alternate seed by seed so a change in machine load hits them all.
TRL's PPO only takes a reward *model*; the benchmark hands it an ``nn.Module`` standing for the reward function and
routes ``get_reward`` for that module (only) to the function, so both optimize exactly the same reward.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TRL112 = Path(os.environ.get("TRL112_PATH", "/tmp/trl112"))

# trl-nogc: trl 1.12 with its two gc.collect() calls per step made no-ops (they dominate its time on tiny models).
IMPLEMENTATIONS = ("plumbline", "trl", "trl-nogc")

SETUP = {
    "prompts": 64,
    "per_device_batch_size": 8,
    "gradient_accumulation_steps": 2,  # rollout batch 16, one optimizer step per PPO epoch (TRL's layout)
    "ppo_epochs": 4,
    "response_length": 4,
    "temperature": 1.0,
    "learning_rate": 2e-3,
    "kl_coef": 0.1,
    "gamma": 1.0,
    "lam": 0.95,
    "cliprange": 0.2,
    "cliprange_value": 0.2,
    "vf_coef": 0.1,
}


def vowel_start(prompts, completions) -> list[float]:
    """The toy reward both implementations optimize."""
    return [1.0 if c.strip()[:1].lower() in "aeiou" and c.strip() else 0.0 for c in completions]


def prompt_texts(n: int) -> list[str]:
    return [f"Question {i}: what is {i} plus {i}?" for i in range(n)]


# --- plumbline -----------------------------------------------------------------------------------------------------


def run_plumbline(model_dir: Path, steps: int, seed: int, workdir: Path) -> dict:
    sys.path[:0] = [str(REPO), str(HERE)]
    import torch

    from training.configs import from_dict
    from training.runners.cli import LocalContext
    from training.runners.ppo import PpoConfig, run

    torch.set_num_threads(1)
    rows = workdir / "prompts.jsonl"
    rows.write_text("\n".join(json.dumps({"prompt": p}) for p in prompt_texts(SETUP["prompts"])))
    config = from_dict(
        PpoConfig,
        {
            "model": str(model_dir), "dataset": str(rows), "reward_function": "ppo_reference:vowel_start",
            "value_model": "policy", "max_steps": steps, "seed": seed, "num_minibatches": 1,
            "per_device_batch_size": SETUP["per_device_batch_size"],
            "gradient_accumulation_steps": SETUP["gradient_accumulation_steps"], "ppo_epochs": SETUP["ppo_epochs"],
            "response_length": SETUP["response_length"], "temperature": SETUP["temperature"],
            "learning_rate": SETUP["learning_rate"], "lr_scheduler": "constant_with_warmup", "warmup_ratio": 0.0,
            "kl_coef": SETUP["kl_coef"], "kl_control": "fixed", "kl_estimator": "k1", "gamma": SETUP["gamma"],
            "lam": SETUP["lam"], "cliprange": SETUP["cliprange"], "cliprange_value": SETUP["cliprange_value"],
            "vf_coef": SETUP["vf_coef"], "missing_eos_score": None, "whiten_rewards": False, "max_length": 64,
            "save_steps": 10_000, "precision": "fp32",
        },
    )  # fmt: skip
    ctx = LocalContext(workdir / "plumbline", show_progress=False)
    run(config, ctx)
    series: dict[str, list[float]] = {}
    for _, name, value in sorted(ctx.metric_points):
        series.setdefault(name, []).append(value)
    return {"score": series["score"], "kl": series["kl"], "seconds": sum(series["step_seconds"])}


# --- trl 1.12 ------------------------------------------------------------------------------------------------------


def run_trl(model_dir: Path, steps: int, seed: int, workdir: Path, *, collect_garbage: bool = True) -> dict:
    sys.path.insert(0, str(TRL112))
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    import trl
    from datasets import Dataset
    from torch import nn
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback

    if not trl.__version__.startswith("1.12"):
        raise RuntimeError(f"expected trl 1.12 from {TRL112}, imported {trl.__version__} from {trl.__file__}")
    from trl.experimental.ppo import PPOConfig, PPOTrainer
    from trl.experimental.ppo import ppo_trainer as trl_ppo

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")

    class FunctionReward(nn.Module):
        """Stands in for a reward model; ``get_reward`` below scores it with the Python function."""

        base_model_prefix = "unused"

    original_get_reward = trl_ppo.get_reward

    def get_reward(model, query_responses, pad_token_id, context_length):
        if not isinstance(model, FunctionReward):
            return original_get_reward(model, query_responses, pad_token_id, context_length)
        responses = query_responses[:, context_length:]
        texts = tokenizer.batch_decode(responses, skip_special_tokens=True)
        scores = torch.tensor(vowel_start(None, texts), dtype=torch.float32, device=query_responses.device)
        lengths = trl_ppo.first_true_indices(responses == pad_token_id) - 1 + context_length
        return None, scores, lengths

    trl_ppo.get_reward = get_reward
    if not collect_garbage:  # trl calls gc.collect() twice per PPO step; "trl-nogc" measures the rest
        trl_ppo.gc.collect = lambda *args, **kwargs: 0

    def tokenized(texts):
        return Dataset.from_list([{"input_ids": tokenizer(t)["input_ids"]} for t in texts])

    class Timing(TrainerCallback):
        def __init__(self):
            self.logs: list[dict] = []
            self.started = self.ended = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.ended = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.logs.append(dict(logs or {}))

    rollout = SETUP["per_device_batch_size"] * SETUP["gradient_accumulation_steps"]
    args = PPOConfig(
        output_dir=str(workdir / "trl"), seed=seed, total_episodes=steps * rollout, num_mini_batches=1,
        per_device_train_batch_size=SETUP["per_device_batch_size"],
        gradient_accumulation_steps=SETUP["gradient_accumulation_steps"], num_ppo_epochs=SETUP["ppo_epochs"],
        response_length=SETUP["response_length"], temperature=SETUP["temperature"],
        learning_rate=SETUP["learning_rate"], lr_scheduler_type="constant", kl_coef=SETUP["kl_coef"],
        kl_estimator="k1", gamma=SETUP["gamma"], lam=SETUP["lam"], cliprange=SETUP["cliprange"],
        cliprange_value=SETUP["cliprange_value"], vf_coef=SETUP["vf_coef"], whiten_rewards=False,
        missing_eos_penalty=None, stop_token="eos", num_sample_generations=0, local_rollout_forward_batch_size=rollout,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=not torch.cuda.is_available(), bf16=False,
        disable_tqdm=True,
    )  # fmt: skip
    torch.manual_seed(seed)
    policy = AutoModelForCausalLM.from_pretrained(model_dir)
    value = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    value.config.pad_token_id = tokenizer.pad_token_id
    timing = Timing()
    trainer = PPOTrainer(
        args=args, processing_class=tokenizer, model=policy, ref_model=None, reward_model=FunctionReward(),
        value_model=value, train_dataset=tokenized(prompt_texts(SETUP["prompts"])),
        eval_dataset=tokenized(prompt_texts(8)), callbacks=[timing],
    )  # fmt: skip
    trainer.train()
    logs = [entry for entry in timing.logs if "objective/scores" in entry]
    return {
        "score": [entry["objective/scores"] for entry in logs],
        "kl": [entry["objective/kl"] for entry in logs],
        "seconds": timing.ended - timing.started,
    }


# --- orchestration -------------------------------------------------------------------------------------------------


def one_run(impl: str, model_dir: Path, steps: int, seed: int, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=f"ppo-{impl}-") as tmp:
        if impl == "plumbline":
            result = run_plumbline(model_dir, steps, seed, Path(tmp))
        else:
            result = run_trl(model_dir, steps, seed, Path(tmp), collect_garbage=impl == "trl")
    out.write_text(json.dumps(result))


def summarize(result: dict, window: int = 5) -> dict:
    score, kl = result["score"], result["kl"]
    return {
        "steps": len(score),
        "steps_per_s": len(score) / result["seconds"],
        "score_first": statistics.mean(score[:window]),
        "score_last": statistics.mean(score[-window:]),
        "reward_gain": statistics.mean(score[-window:]) - statistics.mean(score[:window]),
        "kl_last": statistics.mean(kl[-window:]),
    }


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", choices=IMPLEMENTATIONS, help="run one implementation")
    parser.add_argument("--worker", nargs=4, metavar=("IMPL", "MODEL", "SEED", "OUT"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        impl, model, seed, out = options.worker
        one_run(impl, Path(model), options.steps, int(seed), Path(out))
        return 0

    sys.path.insert(0, str(REPO))
    import harness

    from tests.tiny_lm import build_tiny_lm

    impls = [options.only] if options.only else list(IMPLEMENTATIONS)
    if any(i.startswith("trl") for i in impls) and not (TRL112 / "trl").exists():
        raise SystemExit(f"trl 1.12 is not at {TRL112}: pip install --no-deps --target {TRL112} trl==1.12.0")
    results: dict[str, list[dict]] = {impl: [] for impl in impls}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ppo-bench-") as tmp:
        model_dir = build_tiny_lm(Path(tmp) / "tiny")
        for seed in range(1, options.seeds + 1):
            for impl in impls:
                if impl in errors:
                    continue
                out = Path(tmp) / f"{impl}-{seed}.json"
                command = [sys.executable, __file__, "--steps", str(options.steps), "--worker", impl, str(model_dir),
                           str(seed), str(out)]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    errors[impl] = done.stderr[-4000:]
                    print(f"{impl} seed {seed} failed:\n{errors[impl]}", file=sys.stderr)
                    continue
                summary = summarize(json.loads(out.read_text()))
                results[impl].append({"seed": seed, **summary})
                print(f"{impl:9s} seed {seed}: {json.dumps({k: round(v, 4) for k, v in summary.items()})}")
    rows = []
    for impl, runs in results.items():
        if runs:
            rows.append([impl, len(runs), *(spread([r[k] for r in runs]) for k in
                         ("steps_per_s", "score_first", "score_last", "reward_gain", "kl_last"))])  # fmt: skip
    print()
    print(harness.table(rows, ["implementation", "seeds", "steps/s", "score first 5", "score last 5", "gain", "KL"]))
    path = harness.write_results(
        "ppo_reference",
        {"setup": {**SETUP, "steps": options.steps}, "machine": harness.machine_info(), "runs": results,
         "errors": errors},
    )  # fmt: skip
    print(f"\nresults: {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
