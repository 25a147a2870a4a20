"""The alignment runners' overhead: s/step of ``sft`` and ``dpo`` through plumbline ÷ the same TRL trainer called
directly, same config, same run. Target: ≤ 1.05.

Setup (one throwaway SQLite database and ARTIFACTS_ROOT, Django in this process): a Llama of 4 layers and 256
hidden built from config, a BPE tokenizer trained on a small synthetic language (bench/_alignment_common.py), and a
project whose prompts get judgments and demonstrations through the annotation services, frozen into a preference
and an SFT snapshot. Every variant reads those same snapshot rows and starts from a fresh load of the same model:

- ``direct``: ``SFTTrainer`` / ``DPOTrainer`` built here with the config written out by hand (same rows, batch,
  max_steps, learning rate and schedule, fp32, logging every step, the same checkpoint steps, no eval, and
  activation checkpointing off as in the runner's config: TRL's own configs default it to on), then
  ``save_model``: what a user would run in a notebook;
- ``runner``: ``training.runners.<method>.run`` with the CLI's ``LocalContext`` (paths as inputs);
- ``job``: ``job_launch`` + ``job_execute``, the path a Celery worker's task takes: the database-backed
  ``JobContext`` with its heartbeat thread, inputs resolved through the registry, artifacts registered (sha256).

Two measurements:

1. steady state, lockstep: the three variants train at the same time in threads of this process and take their
   optimizer steps strictly in turn (``Turnstile``), so each variant's steps meet the same moments of the shared
   machine's load. A step's time runs from receiving the turn (in ``on_step_end``) to handing it on at the next
   ``on_step_end``, so it includes the previous step's logging and checkpointing. Reported over the steps after
   ``--warmup``: process CPU s/step (median), wall s/step (10th percentile, median, mean), and the median of the
   per-step paired ratios. The verdict uses the CPU median and the wall p10: on a machine whose other tenants take
   the cores in bursts, a step's wall time is its compute plus whatever the neighbours took, and the median and
   mean mostly measure the neighbours (both are printed).
2. each run alone, in rotation: whole-run wall time (model load to saved output), the time outside the training
   loop, and, measured directly, the milliseconds per step spent inside the run context's own methods (what
   plumbline adds to a step) and the job context's heartbeat flushes.

Usage: ``python bench/alignment_overhead.py`` (6-8 minutes on 2 busy cores; ``--quick`` for a smoke run).
Results: tables on stdout and JSON under var/bench/. See docs/benchmarks.md, section "Alignment".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.pretraining.cpu_defaults import apply_cpu_env_defaults  # (no torch import)

apply_cpu_env_defaults()  # what a CPU worker gets (OMP_WAIT_POLICY=PASSIVE); before torch loads

import _alignment_common as common  # noqa: E402
import harness  # noqa: E402
from _lockstep import Turnstile, clock, timed  # noqa: E402
from alignment_overhead_report import (  # noqa: E402
    TARGET,
    VARIANTS,
    record,
    report_lockstep,
    report_sequential,
    summarize,
    summarize_lockstep,
)
from tqdm import tqdm  # noqa: E402

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


def run_direct(method: str, inputs: dict, steps: int, folder: Path, turnstile: Turnstile | None = None) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import DPOTrainer, SFTTrainer

    stamps: list = []

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(clock())
            if turnstile is not None:
                turnstile.step_end("direct", state.global_step)

    t0, c0 = clock()
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
    t1, c1 = clock()
    return {"stamps": stamps, "wall": t1 - t0, "cpu": c1 - c0, "context_s": 0.0, "flush_s": 0.0}


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


def run_runner(method: str, inputs: dict, steps: int, folder: Path, turnstile: Turnstile | None = None) -> dict:
    from training.configs import from_dict
    from training.runners.cli import LocalContext

    module = importlib.import_module(f"training.runners.{method}")
    config_class = module.SftConfig if method == "sft" else module.DpoConfig
    context_class = timed(LocalContext, "runner", turnstile)
    t0, c0 = clock()
    config = from_dict(
        config_class,
        runner_config(method, steps, str(inputs["model_dir"]), str(inputs["snapshots"][method].absolute_path)),
    )
    ctx = context_class(folder, show_progress=False)
    try:
        module.run(config, ctx)
    finally:
        ctx.close()
    t1, c1 = clock()
    return {"stamps": context_class.stamps, "wall": t1 - t0, "cpu": c1 - c0, **context_class.inside}


def run_job(method: str, inputs: dict, steps: int, folder: Path, turnstile: Turnstile | None = None) -> dict:
    import training.services.execution as execution

    context_class = timed(execution.JobContext, "job", turnstile)
    original, execution.JobContext = execution.JobContext, context_class  # the step clock; the same class otherwise
    try:
        t0, c0 = clock()
        common.job_run(
            method,
            runner_config(method, steps, str(inputs["model"].pk), f"snapshot:{inputs['snapshots'][method].pk}"),
        )
        t1, c1 = clock()
    finally:
        execution.JobContext = original
    return {"stamps": context_class.stamps, "wall": t1 - t0, "cpu": c1 - c0, **context_class.inside}


RUNNERS = {"direct": run_direct, "runner": run_runner, "job": run_job}


# --- the benchmark --------------------------------------------------------------------------------------------


def lockstep(method: str, inputs: dict, steps: int, folder: Path, order: list[str]) -> dict[str, list]:
    """One round: the three variants in threads, stepping in turn; returns each one's exclusive step samples."""
    from django.db import connection

    turnstile = Turnstile(order)
    errors: list[BaseException] = []

    def work(variant: str) -> None:
        try:
            turnstile.enter(variant)
            RUNNERS[variant](method, inputs, steps, folder / variant, turnstile)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)
        finally:
            turnstile.finish(variant)
            connection.close()

    threads = [threading.Thread(target=work, args=(v,), name=f"bench-{v}") for v in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return turnstile.samples


def measure(args, inputs: dict, root: Path) -> dict:
    sequential: list[dict] = []
    rounds: list[dict] = []
    plan = [
        (method, repeat, VARIANTS[(i + repeat) % len(VARIANTS)])
        for method in args.methods
        for repeat in range(args.repeats)
        for i in range(len(VARIANTS))
    ]
    total = len(plan) + len(args.methods) * args.lockstep_rounds
    log = (root / "trainers-stdout.log").open("w")
    with contextlib.redirect_stdout(log), tqdm(total=total, desc="runs", unit="run", dynamic_ncols=True) as bar:
        for method in args.methods:  # untimed: first-use costs (lazy imports, allocator growth) of each method
            importlib.import_module(f"training.alignment.{method}")
            run_direct(method, inputs, args.warmup + 3, root / f"warmup-{method}")
        for method in args.methods:
            for r in range(args.lockstep_rounds):
                order = [VARIANTS[(i + r) % len(VARIANTS)] for i in range(len(VARIANTS))]
                bar.set_description(f"{method} lockstep {r + 1}")
                samples = lockstep(method, inputs, args.steps, root / f"lockstep-{method}-{r}", order)
                rounds.append({"method": method, "round": r, "order": order, "samples": samples})
                bar.update()
        for n, (method, repeat, variant) in enumerate(plan):
            bar.set_description(f"{method} {variant} alone")
            machine_before = harness.machine_cpu_seconds()
            timing = RUNNERS[variant](method, inputs, args.steps, root / f"run-{n}-{method}-{variant}")
            machine = harness.machine_cpu_seconds() - machine_before
            sequential.append(record(args, method, variant, repeat, timing, machine))
            bar.update()
    log.close()
    return {
        "lockstep": summarize_lockstep(rounds, args),
        "sequential": summarize(sequential, args.methods),
        "lockstep_rounds": rounds,
        "sequential_runs": sequential,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="steps left out of the steady state")
    parser.add_argument("--lockstep-rounds", type=int, default=2, help="lockstep rounds per method")
    parser.add_argument("--repeats", type=int, default=2, help="sequential runs per variant and method")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, all cores)")
    parser.add_argument("--prompts", type=int, default=160, help="prompts in the project (rows per snapshot)")
    parser.add_argument("--methods", nargs="+", default=["sft", "dpo"], choices=["sft", "dpo"])
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="wait up to N s for the machine to calm down")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 steps, 1 round, 1 repeat, 2 warmup")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.lockstep_rounds, args.repeats, args.warmup, args.prompts = 8, 1, 1, 2, 48
    if args.steps <= args.warmup + 2:
        parser.error("--steps must exceed --warmup by at least 3")

    common.quiet_libraries()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    with common.django_in_process() as backend:
        root = Path(backend.env["ARTIFACTS_ROOT"]) / "overhead"
        print("building the model, the project and its snapshots ...", flush=True)
        inputs = build_inputs(root, args.prompts)
        quiet = harness.wait_for_quiet(args.quiet_wait)
        result = measure(args, inputs, root)
    verdict = {}
    for method, per in result["lockstep"].items():
        keys = {"cpu p50": "ratio_cpu_s_per_step_median", "wall p10": "ratio_s_per_step_p10"}
        ratios = {f"{v} {label}": per[v][k] for v in ("runner", "job") for label, k in keys.items()}
        verdict[method] = {**ratios, "meets_target": max(ratios.values()) <= TARGET}
    data = {
        "benchmark": "alignment_overhead",
        "machine": harness.machine_info(),
        "quiet_wait": quiet,
        "settings": {
            "steps": args.steps,
            "warmup": args.warmup,
            "lockstep_rounds": args.lockstep_rounds,
            "repeats": args.repeats,
            "threads": args.threads or "default",
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
    print("\nsteady state, lockstep (the variants step in turn, in threads of one process); (ratio) = ÷ direct:")
    print(report_lockstep(result["lockstep"]))
    print("\neach run alone, in rotation (whole-run times; s/step here carries the machine's load swings):")
    print(report_sequential(result["sequential"]))
    print()
    for method, v in verdict.items():
        mark = "meets" if v["meets_target"] else "MISSES"
        figures = ", ".join(f"{k} {x:.3f}" for k, x in v.items() if k != "meets_target")
        print(f"{method}: {figures} -> {mark} ≤ {TARGET}")
    print(f"\nresults: {path}  ({data['elapsed_s']} s)")


if __name__ == "__main__":
    main()
