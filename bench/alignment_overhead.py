"""The alignment runners' overhead: s/step of ``sft`` and ``dpo`` through plumbline ÷ the same TRL trainer called
directly, same config, same run. Target: ≤ 1.05.

Setup (one throwaway SQLite database and ARTIFACTS_ROOT, Django in this process): a Llama of 4 layers and 256
hidden built from config, a BPE tokenizer trained on a small synthetic language (bench/_alignment_common.py), and a
project whose prompts get judgments and demonstrations through the annotation services, frozen into a preference
and an SFT snapshot. Every variant reads those same snapshot rows. Per method, three variants run interleaved
(their order rotates each repeat), each from a fresh model load:

- ``direct``: ``SFTTrainer`` / ``DPOTrainer`` built here with the config written out by hand (same model, rows,
  batch, max_steps, learning rate and schedule, fp32, logging every step, the same checkpoint steps, no eval),
  then ``save_model``: what a user would run in a notebook;
- ``runner``: ``training.runners.<method>.run`` with the CLI's ``LocalContext`` (paths as inputs);
- ``job``: ``job_launch`` + ``job_execute``, the path a Celery worker takes: the database-backed ``JobContext``
  with its heartbeat thread, input resolution through the registry, artifact registration (sha256) at the end.

Steady-state s/step is the median interval between consecutive ``on_step_end`` events after ``--warmup`` steps
(taken by a callback in ``direct``, by the context's ``progress`` call, which the runner's callback makes from
``on_step_end``, in the other two), pooled over repeats; also process CPU s/step (all threads, so the heartbeat
thread counts) and whole-run wall time (model load to saved output). The machine is shared with other agents; the
share of the machine's CPU used by other processes during each run is recorded, and the CPU-time ratio is the one
least disturbed by them.

Usage: ``python bench/alignment_overhead.py`` (about 6-8 minutes on 2 busy cores; ``--quick`` for a smoke run).
Results: a table on stdout and JSON under var/bench/. See docs/benchmarks.md, section "Alignment".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.pretraining.cpu_defaults import apply_cpu_env_defaults  # (no torch import)

apply_cpu_env_defaults()  # what a CPU worker gets (OMP_WAIT_POLICY=PASSIVE); before torch loads

import _alignment_common as common  # noqa: E402
import harness  # noqa: E402
from tqdm import tqdm  # noqa: E402

TARGET = 1.05
VARIANTS = ("direct", "runner", "job")
BATCH = 8
MAX_LENGTH = 128
LEARNING_RATE = {"sft": 2e-4, "dpo": 5e-6}


# --- inputs ---------------------------------------------------------------------------------------------------


def build_inputs(root: Path, prompts: int) -> dict:
    """Base model and the two snapshots, made through the registry and the annotation services."""
    from django.contrib.auth import get_user_model

    from annotation.selectors.export import PreferenceFilters, SftFilters
    from annotation.selectors.tasks import task_payload
    from annotation.services import (
        demonstration_submit,
        judgment_submit,
        membership_set,
        project_create,
        prompts_import,
        snapshot_freeze,
        task_assign_next,
    )
    from training.runners.base import ArtifactSpec
    from training.services import artifact_register

    model_dir = root / "base-model"
    tokenizer = common.build_tokenizer(model_dir, common.corpus(3000))
    common.build_llama(model_dir, tokenizer, layers=4, hidden=256)
    model = artifact_register(spec=ArtifactSpec("model", model_dir, name="bench base (4 layers, 256 hidden)"))

    user = get_user_model().objects.create_user("bench-annotator", password="x")
    project = project_create(
        name="alignment overhead",
        task_kinds=["comparison", "demonstration"],
        split_ratios={"train": 1.0, "validation": 0.0, "test": 0.0},  # no eval in any variant
    )
    membership_set(project=project, username=user.username, role="annotator")
    rng = random.Random(0)
    records = []
    for i, (prompt, color, animal) in enumerate(common.unique_prompts(prompts)):
        pair = [common.make_response(rng, color, animal, "."), common.make_response(rng, color, animal, "!")]
        records.append({"id": f"p{i}", "prompt": prompt, "responses": pair})
    prompts_import(project=project, lines=[(json.dumps(r) + "\n").encode() for r in records])
    while (a := task_assign_next(project=project, annotator=user, kind="comparison")) is not None:
        texts = {r["id"]: r["text"] for r in task_payload(a)["responses"]}
        ranking = sorted(texts, key=lambda rid: not texts[rid].endswith("."))
        judgment_submit(task_id=a.task_id, annotator=user, ranking=ranking)
    while (a := task_assign_next(project=project, annotator=user, kind="demonstration")) is not None:
        payload = task_payload(a)
        demonstration_submit(task_id=a.task_id, annotator=user, text=payload["candidates"][0]["text"])
    prefs, _ = snapshot_freeze(project=project, kind="preferences", filters=PreferenceFilters(style="conversational"))
    sft, _ = snapshot_freeze(project=project, kind="sft", filters=SftFilters(include_pending=True))
    return {"model": model, "model_dir": model_dir, "snapshots": {"dpo": prefs, "sft": sft}}


# --- timing ---------------------------------------------------------------------------------------------------


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _timed(base: type) -> type:
    """A context class that also timestamps each ``progress`` call (the runner's callback makes it per step)."""

    class Timed(base):
        stamps: list = []  # the class is made per run, so this list is the run's

        def progress(self, step, total=None, message=""):
            Timed.stamps.append(_clock())
            super().progress(step, total, message)

    return Timed


def steady(stamps: list[tuple[float, float]], warmup: int) -> dict:
    wall = [b[0] - a[0] for a, b in itertools.pairwise(stamps)][warmup:]
    cpu = [b[1] - a[1] for a, b in itertools.pairwise(stamps)][warmup:]
    return {"wall": wall, "cpu": cpu}


# --- the three variants ---------------------------------------------------------------------------------------


def trl_arguments(method: str, steps: int, output_dir: Path):
    """The trainer config a user writes by hand: the values the runner's config below turns into."""
    from trl import DPOConfig, SFTConfig

    common_args = dict(
        output_dir=str(output_dir),
        max_steps=steps,
        num_train_epochs=1.0,
        per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=BATCH,
        gradient_accumulation_steps=1,
        learning_rate=LEARNING_RATE[method],
        lr_scheduler_type="cosine",
        warmup_steps=0.05,
        weight_decay=0.0,
        max_grad_norm=1.0,
        optim="adamw_torch",
        activation_checkpointing=False,  # TRL's SFTConfig / DPOConfig default to True; the runner's config to False
        logging_steps=1,
        save_strategy="steps",
        save_steps=steps,
        save_total_limit=2,
        seed=42,
        data_seed=42,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=True,
        bf16=False,
        fp16=False,
        max_length=MAX_LENGTH,
    )
    if method == "sft":
        return SFTConfig(**common_args, packing=False, assistant_only_loss=True)
    return DPOConfig(**common_args, beta=0.1, loss_type=["sigmoid"])


def run_direct(method: str, inputs: dict, steps: int, folder: Path) -> tuple[list, float, float]:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import DPOTrainer, SFTTrainer

    stamps: list = []

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(_clock())

    t0, c0 = _clock()
    snapshot = inputs["snapshots"][method].absolute_path
    columns = ["messages"] if method == "sft" else ["prompt", "chosen", "rejected"]
    rows = [json.loads(line) for line in snapshot.read_text().splitlines()]
    dataset = Dataset.from_list([{c: r[c] for c in columns} for r in rows])
    tokenizer = AutoTokenizer.from_pretrained(inputs["model_dir"])
    model = AutoModelForCausalLM.from_pretrained(inputs["model_dir"])
    trainer_class = SFTTrainer if method == "sft" else DPOTrainer
    trainer = trainer_class(
        model=model,
        args=trl_arguments(method, steps, folder / "trainer"),
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[StepClock()],
    )
    trainer.train()
    trainer.save_model(str(folder / "model"))
    tokenizer.save_pretrained(folder / "model")
    t1, c1 = _clock()
    return stamps, t1 - t0, c1 - c0


def runner_config(method: str, steps: int, model: str, dataset: str) -> dict:
    return {
        "model": model,
        "dataset": dataset,
        "max_steps": steps,
        "per_device_batch_size": BATCH,
        "learning_rate": LEARNING_RATE[method],
        "lr_scheduler": "cosine",
        "warmup_ratio": 0.05,
        "precision": "fp32",
        "max_length": MAX_LENGTH,
        "logging_steps": 1,
        "save_steps": steps,
        "eval_steps": 0,
        "seed": 42,
    }


def run_runner(method: str, inputs: dict, steps: int, folder: Path) -> tuple[list, float, float]:
    from training.configs import from_dict
    from training.runners.cli import LocalContext

    module = importlib.import_module(f"training.runners.{method}")
    config_class = module.SftConfig if method == "sft" else module.DpoConfig
    context_class = _timed(LocalContext)
    t0, c0 = _clock()
    config = from_dict(
        config_class,
        runner_config(method, steps, str(inputs["model_dir"]), str(inputs["snapshots"][method].absolute_path)),
    )
    ctx = context_class(folder, show_progress=False)
    try:
        module.run(config, ctx)
    finally:
        ctx.close()
    t1, c1 = _clock()
    return context_class.stamps, t1 - t0, c1 - c0


def run_job(method: str, inputs: dict, steps: int, folder: Path) -> tuple[list, float, float]:
    import training.services.execution as execution

    context_class = _timed(execution.JobContext)
    original, execution.JobContext = execution.JobContext, context_class  # only to read the step clock
    try:
        t0, c0 = _clock()
        common.job_run(
            method,
            runner_config(method, steps, str(inputs["model"].pk), f"snapshot:{inputs['snapshots'][method].pk}"),
        )
        t1, c1 = _clock()
    finally:
        execution.JobContext = original
    return context_class.stamps, t1 - t0, c1 - c0


RUNNERS = {"direct": run_direct, "runner": run_runner, "job": run_job}


# --- the benchmark --------------------------------------------------------------------------------------------


def measure(args, inputs: dict, root: Path) -> dict:
    runs: list[dict] = []
    plan = [
        (method, repeat, VARIANTS[(i + repeat) % len(VARIANTS)])
        for method in args.methods
        for repeat in range(args.repeats)
        for i in range(len(VARIANTS))
    ]
    log = (root / "trainers-stdout.log").open("w")
    with contextlib.redirect_stdout(log):  # TRL prints every log dict when its progress bar is off
        for method in args.methods:  # untimed: first-use costs (lazy imports, allocator growth) of each method
            importlib.import_module(f"training.alignment.{method}")
            run_direct(method, inputs, args.warmup + 3, root / f"warmup-{method}")
        for n, (method, repeat, variant) in enumerate(tqdm(plan, desc="runs", unit="run", dynamic_ncols=True)):
            machine_before = harness.machine_cpu_seconds()
            stamps, wall, cpu = RUNNERS[variant](method, inputs, args.steps, root / f"run-{n}-{method}-{variant}")
            machine = harness.machine_cpu_seconds() - machine_before
            runs.append(record(args, method, variant, repeat, stamps, wall, cpu, machine))
    log.close()
    return {"runs": runs, "summary": summarize(runs, args.methods)}


def record(args, method, variant, repeat, stamps, wall, cpu, machine) -> dict:
    if len(stamps) != args.steps:
        raise RuntimeError(f"{method}/{variant}: {len(stamps)} step events for {args.steps} steps")
    return {
        "method": method,
        "variant": variant,
        "repeat": repeat,
        "total_wall_s": round(wall, 3),
        "total_cpu_s": round(cpu, 3),
        "others_cpu_share": round(max(0.0, machine - cpu) / (wall * (os.cpu_count() or 1)), 3),
        **{k: [round(x, 5) for x in v] for k, v in steady(stamps, args.warmup).items()},
    }


def summarize(runs: list[dict], methods: list[str]) -> dict:
    out = {}
    for method in methods:
        per = {}
        for variant in VARIANTS:
            mine = [r for r in runs if r["method"] == method and r["variant"] == variant]
            wall = [x for r in mine for x in r["wall"]]
            cpu = [x for r in mine for x in r["cpu"]]
            per[variant] = {
                "s_per_step_median": statistics.median(wall),
                "s_per_step_mean": statistics.fmean(wall),
                "cpu_s_per_step_median": statistics.median(cpu),
                "total_wall_s_median": statistics.median(r["total_wall_s"] for r in mine),
                "others_cpu_share": statistics.fmean(r["others_cpu_share"] for r in mine),
                "intervals": len(wall),
            }
        for variant in ("runner", "job"):
            for key in ("s_per_step_median", "s_per_step_mean", "cpu_s_per_step_median", "total_wall_s_median"):
                per[variant][f"ratio_{key}"] = per[variant][key] / per["direct"][key]
        out[method] = per
    return out


def report(summary: dict) -> str:
    rows = []
    for method, per in summary.items():
        for variant in VARIANTS:
            v = per[variant]
            ratio = lambda key, v=v, variant=variant: "" if variant == "direct" else f"{v['ratio_' + key]:.3f}"  # noqa: E731
            rows.append(
                [
                    method,
                    variant,
                    f"{v['s_per_step_median']:.3f}",
                    ratio("s_per_step_median"),
                    f"{v['s_per_step_mean']:.3f}",
                    ratio("s_per_step_mean"),
                    f"{v['cpu_s_per_step_median']:.3f}",
                    ratio("cpu_s_per_step_median"),
                    f"{v['total_wall_s_median']:.1f}",
                    ratio("total_wall_s_median"),
                    f"{100 * v['others_cpu_share']:.0f}%",
                ]
            )
    header = [
        "method", "variant", "s/step p50", "ratio", "s/step mean", "ratio", "cpu s/step p50", "ratio",
        "total s", "ratio", "others' CPU",
    ]  # fmt: skip
    return harness.table(rows, header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="step intervals left out of the steady state")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant and method (interleaved)")
    parser.add_argument("--prompts", type=int, default=160, help="prompts in the project (rows per snapshot)")
    parser.add_argument("--methods", nargs="+", default=["sft", "dpo"], choices=["sft", "dpo"])
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="wait up to N s for the machine to calm down")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 steps, 1 repeat, 2 warmup steps")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats, args.warmup, args.prompts = 8, 1, 2, 48
    if args.steps <= args.warmup + 2:
        parser.error("--steps must exceed --warmup by at least 3")

    common.quiet_libraries()
    started = time.perf_counter()
    with common.django_in_process() as backend:
        root = Path(backend.env["ARTIFACTS_ROOT"]) / "overhead"
        print("building the model, the project and its snapshots ...", flush=True)
        inputs = build_inputs(root, args.prompts)
        quiet = harness.wait_for_quiet(args.quiet_wait)
        result = measure(args, inputs, root)
    verdict = {
        method: {
            "runner_ratio": per["runner"]["ratio_s_per_step_median"],
            "job_ratio": per["job"]["ratio_s_per_step_median"],
            "meets_target": max(per["runner"]["ratio_s_per_step_median"], per["job"]["ratio_s_per_step_median"])
            <= TARGET,
        }
        for method, per in result["summary"].items()
    }
    data = {
        "benchmark": "alignment_overhead",
        "machine": harness.machine_info(),
        "quiet_wait": quiet,
        "settings": {
            "steps": args.steps,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "prompts": args.prompts,
            "batch": BATCH,
            "max_length": MAX_LENGTH,
            "model": "llama, 4 layers, 256 hidden, 4 heads, vocab 400, fp32",
        },
        "target": TARGET,
        "verdict": verdict,
        "elapsed_s": round(time.perf_counter() - started, 1),
        **result,
    }
    path = harness.write_results("alignment_overhead", data)
    print()
    print(report(result["summary"]))
    print()
    for method, v in verdict.items():
        mark = "meets" if v["meets_target"] else "MISSES"
        print(f"{method}: runner {v['runner_ratio']:.3f}, job {v['job_ratio']:.3f} (s/step ratio) -> {mark} ≤ {TARGET}")
    print(f"\nresults: {path}  ({data['elapsed_s']} s)")


if __name__ == "__main__":
    main()
