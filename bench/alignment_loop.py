"""End-to-end learning check: a scripted annotator with a known preference, through the real API, teaches a reward
model and a DPO policy that preference. Targets: the reward model's held-out accuracy on the annotator's rule ≥ 90%,
and the DPO policy beats its SFT parent by that rule ≥ 70% of the time.

The annotator's rule: **a response that ends with a period beats one that does not**; two responses that both do,
or both don't, are a tie. The language is a small synthetic grammar (bench/_alignment_common.py) whose answers end
in ".", "!", "?" or nothing, so the SFT model says "." about a quarter of the time.

The loop, on a throwaway SQLite database and ARTIFACTS_ROOT, with gunicorn serving the API on 127.0.0.1:

1. an engineer (DRF token) creates a project (comparisons of K responses, demonstrations; splits 75/15/10 by
   prompt), adds the annotator, imports the prompts as JSONL;
2. the annotator writes a demonstration per prompt (GET tasks/next, POST demonstrations), the engineer freezes an
   SFT snapshot (POST projects/<id>/snapshots/);
3. the engineer launches jobs through POST /api/v1/jobs/; this process is their worker and runs each one with
   ``job_execute`` (what the Celery task calls): ``sft`` from a tiny Llama built from config, then ``generate``:
   K samples per prompt from the SFT model, written into the project as responses, which makes comparison tasks;
4. the annotator ranks each prompt's K generated responses by the rule (ties grouped) through the API, and the
   engineer freezes a preference snapshot: the decided pairs of every ranking;
5. ``reward_model`` (from the SFT model) and ``dpo`` (from the SFT model, which is also its reference; IPO loss,
   see below) on that snapshot; the reward model's job reports its accuracy on the snapshot's validation prompts;
6. ``generate`` again, from the SFT and the DPO model, on the test prompts (never trained on): sample i of one
   model meets sample i of the other, judged by the annotator's rule (a tie counts half). The reward model also
   scores those fresh pairs, wherever the rule decides them.

A guard: the share of samples that are well-formed sentences of the grammar, for both models. The rule only looks
at the last character, and a tiny policy pushed hard (plain sigmoid DPO at a high learning rate) satisfies it with
junk that ends in "."; the defaults (IPO, whose target margin is finite, τ = 1, 100 steps) were chosen on that
trade-off. Task order is random (the server shuffles tasks), so two runs with one seed differ a little.

Usage: ``python bench/alignment_loop.py`` (about 2-3 minutes on 2 busy cores). Results: figures on stdout, JSON under
var/bench/. See docs/benchmarks.md, section "Alignment".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.pretraining.cpu_defaults import apply_cpu_env_defaults  # (no torch import)

apply_cpu_env_defaults()  # what a CPU worker gets (OMP_WAIT_POLICY=PASSIVE); before torch loads

import _alignment_common as common  # noqa: E402
import harness  # noqa: E402
import requests  # noqa: E402
from alignment_loop_eval import TARGETS, head_to_head, report, reward_model_on, rule_ranking  # noqa: E402
from tqdm import tqdm  # noqa: E402

SPLITS = {"train": 0.75, "validation": 0.15, "test": 0.10}


# --- the API client -------------------------------------------------------------------------------------------


class Api:
    """One user's keep-alive session against the server; any unexpected status is an error with the body."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.requests = 0

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201), **kwargs) -> requests.Response:
        self.requests += 1
        response = self.session.request(method, self.base + path, timeout=120, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response


class Worker:
    """Runs the jobs the engineer launches through the API, in this process, as a Celery worker's task would."""

    def __init__(self, engineer: Api, logs: Path):
        self.engineer = engineer
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, dict] = {}

    def run(self, label: str, kind: str, config: dict) -> dict:
        from training.services import job_execute

        job = self.engineer.call("POST", "/api/v1/jobs/", json={"kind": kind, "config": config, "name": label}).json()
        t0 = time.perf_counter()
        tqdm.write(f"[{label}] {kind} job {job['id']} ...")
        with (self.logs / f"{label}.stdout.log").open("w") as log, contextlib.redirect_stdout(log):
            status = job_execute(job_id=job["id"], hostname="bench-worker")  # TRL prints its logs to stdout
        payload = self.engineer.call("GET", f"/api/v1/jobs/{job['id']}/").json()
        if status != "succeeded":
            raise RuntimeError(f"{label}: job {job['id']} {status}: {payload['error_message']}\n{payload['log_tail']}")
        summary = payload["result"].get("summary", {})
        self.jobs[label] = {
            "job": job["id"],
            "kind": kind,
            "seconds": round(time.perf_counter() - t0, 1),
            "config": payload["config"],
            "summary": summary,
            "outputs": [{"id": o["id"], "kind": o["kind"]} for o in payload["outputs"]],
        }
        tqdm.write(f"[{label}] done in {self.jobs[label]['seconds']} s: {short(summary)}")
        return payload


def short(summary: dict) -> str:
    keep = ("steps", "train_loss", "validation_accuracy", "eval_loss", "samples", "responses_created", "tasks_created")
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items() if k in keep)


def model_output(payload: dict) -> int:
    return next(o["id"] for o in payload["outputs"] if o["kind"] == "model")


# --- the annotator's sessions ---------------------------------------------------------------------------------


def write_demonstrations(annotator: Api, project: int, answers: dict, seed: int, total: int) -> int:
    """One demonstration per prompt, in the grammar, with a random ending (the SFT data the policy starts from)."""
    rng = random.Random(seed)
    done = 0
    with tqdm(total=total, desc="demonstrations (API)", unit="task", dynamic_ncols=True) as bar:
        while True:
            r = annotator.call("GET", f"/api/v1/projects/{project}/tasks/next/?kind=demonstration", expect=(200, 204))
            if r.status_code == 204:
                return done
            task = r.json()
            color, animal = answers[task["prompt"]]
            text = common.make_response(rng, color, animal)
            annotator.call("POST", f"/api/v1/tasks/{task['id']}/demonstrations/", json={"text": text})
            done += 1
            bar.update()


def judge_comparisons(annotator: Api, project: int, total: int) -> dict:
    counts = {"tasks": 0, "decided_pairs": 0, "all_tied": 0}
    with tqdm(total=total, desc="judgments (API)", unit="task", dynamic_ncols=True) as bar:
        while True:
            r = annotator.call("GET", f"/api/v1/projects/{project}/tasks/next/?kind=comparison", expect=(200, 204))
            if r.status_code == 204:
                return counts
            task = r.json()
            ranking = rule_ranking(task["responses"])
            body = {"ranking": ranking if len(ranking) > 1 else [ranking[0]], "time_spent_ms": 1000}
            annotator.call("POST", f"/api/v1/tasks/{task['id']}/judgments/", json=body)
            counts["tasks"] += 1
            counts["all_tied"] += len(ranking) == 1
            counts["decided_pairs"] += len(ranking[0]) * len(ranking[1]) if len(ranking) == 2 else 0
            bar.update()


# --- the loop -------------------------------------------------------------------------------------------------


def setup_accounts() -> tuple[str, str]:
    """The two accounts and their API tokens (an admin's one-off setup, outside the API)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    users = get_user_model().objects
    engineer = users.create_user("engineer", password="bench-engineer-pw", is_staff=True)
    annotator = users.create_user("annotator", password="bench-annotator-pw")
    return Token.objects.create(user=engineer).key, Token.objects.create(user=annotator).key


def base_model(root: Path, args) -> int:
    """A tiny Llama from config and a BPE trained on the grammar, registered as the base model version."""
    from training.runners.base import ArtifactSpec
    from training.services import artifact_register

    path = root / "base-model"
    tokenizer = common.build_tokenizer(path, common.corpus(4000, seed=args.seed))
    common.build_llama(path, tokenizer, layers=args.layers, hidden=args.hidden, seed=args.seed)
    name = f"tiny llama ({args.layers} layers, {args.hidden} hidden)"
    return artifact_register(spec=ArtifactSpec("model", path, name=name)).pk


def train_config(steps: int, lr: float, batch: int, **extra) -> dict:
    return {
        "max_steps": steps,
        "per_device_batch_size": batch,
        "learning_rate": lr,
        "lr_scheduler": "cosine",
        "warmup_ratio": 0.05,
        "precision": "fp32",
        "max_length": 128,
        "logging_steps": 5,
        "save_steps": steps,
        "seed": 0,
        **extra,
    }


def run_loop(args, server_url: str, eng_token: str, ann_token: str, base: int, logs: Path) -> dict:
    from training.models import Job

    engineer, annotator = Api(server_url, eng_token), Api(server_url, ann_token)
    worker = Worker(engineer, logs)
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        times[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    project = engineer.call(
        "POST",
        "/api/v1/projects/",
        json={
            "name": "alignment loop",
            "task_kinds": ["comparison", "demonstration"],
            "responses_per_comparison": args.k,
            "split_ratios": SPLITS,
            "guidelines": "Prefer a response that ends with a period.",
        },
    ).json()["id"]
    engineer.call("POST", f"/api/v1/projects/{project}/members/", json={"username": "annotator"})
    chosen_prompts = common.unique_prompts(args.prompts, seed=args.seed)
    answers = {text: (color, animal) for text, color, animal in chosen_prompts}
    body = "".join(json.dumps({"id": f"p{i}", "prompt": t}) + "\n" for i, (t, _, _) in enumerate(chosen_prompts))
    imported = engineer.call(
        "POST", f"/api/v1/projects/{project}/import/", data=body, headers={"Content-Type": "application/x-ndjson"}
    ).json()
    lap("project_and_import")

    demos = write_demonstrations(annotator, project, answers, args.seed, imported["prompts_created"])
    sft_snapshot = engineer.call(
        "POST", f"/api/v1/projects/{project}/snapshots/", json={"kind": "sft", "include_pending": True}
    ).json()
    lap("demonstrations")

    sft = model_output(
        worker.run(
            "sft",
            "sft",
            {
                "model": str(base),
                "dataset": f"snapshot:{sft_snapshot['id']}",
                **train_config(args.sft_steps, args.sft_lr, 16),
            },
        )
    )
    lap("sft")
    sampling = {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 32, "batch_size": 32, "chat_template": "always"}
    round1 = worker.run(
        "generate-round-1",
        "generate",
        {"models": [str(sft)], "project": project, "samples_per_prompt": args.k, "seed": args.seed, **sampling},
    )
    lap("generate")

    judged = judge_comparisons(annotator, project, round1["result"]["summary"].get("tasks_created", 0))
    prefs = engineer.call(
        "POST", f"/api/v1/projects/{project}/snapshots/", json={"kind": "preferences", "style": "conversational"}
    ).json()
    lap("judgments")

    rm_payload = worker.run(
        "reward_model",
        "reward_model",
        {
            "model": str(sft),
            "dataset": f"snapshot:{prefs['id']}",
            **train_config(args.rm_steps, args.rm_lr, 16),
        },
    )
    lap("reward_model")
    dpo = model_output(
        worker.run(
            "dpo",
            "dpo",
            {
                "model": str(sft),
                "dataset": f"snapshot:{prefs['id']}",
                "beta": args.beta,
                "loss_type": args.dpo_loss,
                **train_config(args.dpo_steps, args.dpo_lr, 16),
            },
        )
    )
    lap("dpo")

    final = worker.run(
        "generate-test",
        "generate",
        {
            "models": [str(sft), str(dpo)],
            "project": project,
            "split": "test",
            "samples_per_prompt": args.eval_samples,
            "skip_existing": False,
            "seed": args.seed + 1,
            **sampling,
        },
    )
    generations = [
        json.loads(line)
        for line in (Job.objects.get(pk=final["id"]).folder / "generations.jsonl").read_text().splitlines()
    ]
    figures, decided = head_to_head(generations, sft, dpo)
    fresh_rm = reward_model_on(decided, _prompt_texts(project), _artifact_path(model_output(rm_payload)))
    lap("evaluation")

    rm_summary = worker.jobs["reward_model"]["summary"]
    return {
        "project": project,
        "prompts": imported["prompts_created"],
        "demonstrations": demos,
        "sft_snapshot_rows": sft_snapshot["row_count"],
        "judged": judged,
        "preference_snapshot": {"id": prefs["id"], "rows": prefs["row_count"], **prefs["manifest"]["rows_per_split"]},
        "reward_model": {
            "validation_accuracy": rm_summary["validation_accuracy"],
            "validation_pairs": prefs["manifest"]["rows_per_split"]["validation"],
            "accuracy_split": rm_summary["accuracy_split"],
            "accuracy_on_policy_test_pairs": fresh_rm,
            "policy_test_pairs": len(decided),
        },
        "dpo_vs_sft": figures,
        "jobs": worker.jobs,
        "api_requests": engineer.requests + annotator.requests,
        "stage_seconds": times,
    }


def _artifact_path(artifact_id: int) -> Path:
    from training.models import Artifact

    return Artifact.objects.get(pk=artifact_id).absolute_path


def _prompt_texts(project: int) -> dict[int, str]:
    """generations.jsonl names prompts by their database id."""
    from annotation.models import Prompt

    return {pk: m[0]["content"] for pk, m in Prompt.objects.filter(project_id=project).values_list("pk", "messages")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=400, help="distinct prompts imported (at most 768)")
    parser.add_argument("--k", type=int, default=4, help="responses sampled per prompt and ranked in one task")
    parser.add_argument("--eval-samples", type=int, default=8, help="samples per test prompt and model")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--sft-steps", type=int, default=300)
    parser.add_argument("--sft-lr", type=float, default=2e-3)
    parser.add_argument("--rm-steps", type=int, default=100)
    parser.add_argument("--rm-lr", type=float, default=1e-3)
    parser.add_argument("--dpo-steps", type=int, default=100)
    parser.add_argument("--dpo-lr", type=float, default=3e-4)
    parser.add_argument("--dpo-loss", default="ipo", help="the dpo job's loss_type (ipo, sigmoid, robust, ...)")
    parser.add_argument("--beta", type=float, default=1.0, help="DPO beta (IPO's tau)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gunicorn-workers", type=int, default=1)
    args = parser.parse_args()

    common.quiet_libraries()
    started = time.perf_counter()
    with common.django_in_process() as backend:
        eng_token, ann_token = setup_accounts()
        base = base_model(Path(backend.env["ARTIFACTS_ROOT"]) / "bench", args)
        with harness.gunicorn(backend, workers=args.gunicorn_workers, threads=2) as server:
            result = run_loop(args, server.url, eng_token, ann_token, base, backend.workdir / "logs")
    elapsed = time.perf_counter() - started
    verdict = {
        "reward_model_accuracy": result["reward_model"]["validation_accuracy"] >= TARGETS["reward_model_accuracy"],
        "dpo_win_rate": result["dpo_vs_sft"]["win_rate"] >= TARGETS["dpo_win_rate"],
    }
    data = {
        "benchmark": "alignment_loop",
        "machine": harness.machine_info(),
        "settings": vars(args),
        "targets": TARGETS,
        "verdict": verdict,
        "elapsed_s": round(elapsed, 1),
        **result,
    }
    path = harness.write_results("alignment_loop", data)
    print()
    print(report(result, elapsed))
    for name, ok in verdict.items():
        print(f"{name}: {'meets' if ok else 'MISSES'} its target")
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
