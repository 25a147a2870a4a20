"""Cross-checking our multiple-choice scores with lm-evaluation-harness on the very same rows.

For a suite's rows we write, into the job's folder, the rows as JSONL, a task YAML that reads them
(``dataset_path: json`` + ``data_files``) with the same prompt format as our suite, and ``hooks.py`` (a copy of
``lm_eval_hooks``), then call ``lm_eval.simple_evaluate(model="hf", model_args="pretrained=PATH,...")``: lm-eval
loads the model itself, builds its own requests and computes its own metrics. Beside its acc / acc_norm (or MC1 /
MC2) we record the largest difference between its per-choice log-likelihoods and ours and whether the prompts it
built are ours character for character. In float32 the two agree to ~1e-5; ``agree`` allows for bfloat16 and for
near-ties flipping an argmax.

lm-eval is optional (``pip install -e .[eval]``). When it is missing or cannot run (no network for a model that
needs it, an incompatible version), the suite does not fail: the metric's metadata says why.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HOOKS = Path(__file__).with_name("lm_eval_hooks.py")

MMLU_DESCRIPTION = (
    "{% if subject %}The following are multiple choice questions (with answers) about "
    "{{ subject.replace('_', ' ') }}.\n\n{% endif %}"
)
MMLU_TEXT = (
    "{{ question.strip() }}\n{% for c in choices %}{{ '" + LETTERS + "'[loop.index0] }}. {{ c }}\n{% endfor %}Answer:"
)
TRUTHFULQA_TEXT = "Q: {{ question }}\nA:"


@dataclass(frozen=True)
class TaskSpec:
    data: str  # which of our formats the rows are in
    config: dict[str, Any]
    metric_names: dict[str, str]  # lm-eval metric -> our metric name
    ll_diff_name: str


TASKS: dict[str, TaskSpec] = {
    "mmlu": TaskSpec(
        "mmlu",
        {
            "output_type": "multiple_choice",
            "description": MMLU_DESCRIPTION,
            "doc_to_text": MMLU_TEXT,
            "doc_to_choice": "{{ '" + LETTERS + "'[:choices|length] | list }}",
            "doc_to_target": "answer",
            "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
        },
        {"acc": "acc", "acc_norm": "acc_norm"},
        "lm_eval_ll_diff",
    ),
    "hellaswag": TaskSpec(
        "hellaswag",
        {
            "output_type": "multiple_choice",
            "process_docs": "!function hooks.hellaswag_process_docs",
            "doc_to_text": "{{ query }}",
            "doc_to_choice": "options",
            "doc_to_target": "{{ gold }}",
            "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
        },
        {"acc": "acc", "acc_norm": "acc_norm"},
        "lm_eval_ll_diff",
    ),
    "truthfulqa_mc1": TaskSpec(
        "truthfulqa",
        {
            "output_type": "multiple_choice",
            "doc_to_text": TRUTHFULQA_TEXT,
            "doc_to_choice": "{{ mc1_targets.choices }}",
            "doc_to_target": "{{ mc1_targets.labels.index(1) }}",
            "metric_list": [{"metric": "acc"}],
        },
        {"acc": "mc1"},
        "lm_eval_mc1_ll_diff",
    ),
    "truthfulqa_mc2": TaskSpec(
        "truthfulqa",
        {
            "output_type": "multiple_choice",
            "doc_to_text": TRUTHFULQA_TEXT,
            "doc_to_choice": "{{ mc2_targets.choices }}",
            "doc_to_target": 0,
            "process_results": "!function hooks.mc2_process_results",
            "metric_list": [{"metric": "acc"}],
        },
        {"acc": "mc2"},
        "lm_eval_mc2_ll_diff",
    ),
}


def lm_eval_status() -> tuple[bool, str]:
    try:
        import lm_eval  # noqa: F401
        from lm_eval.tasks import TaskManager  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install raising anything at import
        return False, f"lm-evaluation-harness is not importable ({type(exc).__name__}: {exc}); pip install -e .[eval]"
    return True, ""


class _FunctionTag(str):
    """A YAML scalar written with lm-eval's ``!function`` tag."""


class _TaskDumper(yaml.SafeDumper):
    pass


_TaskDumper.add_representer(_FunctionTag, lambda dumper, value: dumper.represent_scalar("!function", str(value)))


def write_task(task: str, rows: list[dict[str, Any]], folder: Path) -> tuple[str, Path]:
    """The task folder (YAML, rows, hooks) under ``folder``; returns (task name, folder)."""
    spec = TASKS[task]
    root = Path(folder) / "lm_eval" / task
    root.mkdir(parents=True, exist_ok=True)
    data = root / "rows.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({"subject": "", **row}, ensure_ascii=False) + "\n")
    shutil.copyfile(HOOKS, root / "hooks.py")
    name = f"plumbline_{task}"
    config: dict[str, Any] = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}, "cache_dir": str(root / "hf_cache")},
        "test_split": "test",
        "target_delimiter": " ",
    }
    for key, value in spec.config.items():
        is_function = isinstance(value, str) and value.startswith("!function ")
        config[key] = _FunctionTag(value.removeprefix("!function ")) if is_function else value
    config["metadata"] = {"version": 1.0}
    (root / f"{name}.yaml").write_text(
        yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return name, root


def _model_args(model_path: Path) -> tuple[str, str, str]:
    """(model_args, device, dtype) matching how ``model_io.load_causal_lm`` loads the same model."""
    import torch

    cuda = torch.cuda.is_available()
    dtype = "bfloat16" if cuda and torch.cuda.is_bf16_supported() else "float32"
    path = Path(model_path)
    args = f"pretrained={path},dtype={dtype}"
    adapter = path / "adapter_config.json"
    if adapter.exists():
        base = json.loads(adapter.read_text()).get("base_model_name_or_path")
        args = f"pretrained={base},peft={path},dtype={dtype}"
    return args, ("cuda" if cuda else "cpu"), dtype


def _sample_pairs_and_lls(sample: dict) -> tuple[list[tuple[str, str]], list[float]]:
    arguments = sample.get("arguments")
    if isinstance(arguments, dict):  # {"gen_args_0": {"arg_0": context, "arg_1": continuation}, ...}
        pairs = [(a["arg_0"], a["arg_1"]) for a in arguments.values()]
    else:
        pairs = [tuple(a[:2]) for a in arguments or []]
    lls = [float(r[0][0] if isinstance(r[0], list | tuple) else r[0]) for r in sample["resps"]]
    return pairs, lls


@dataclass
class CrossCheck:
    task: str
    available: bool
    reason: str = ""
    theirs: dict[str, float] = field(default_factory=dict)
    ours: dict[str, float] = field(default_factory=dict)
    max_ll_diff: float | None = None
    prompts_match: bool | None = None
    near_ties: int = 0
    n: int = 0
    tolerance: float = 1e-3
    task_folder: str = ""
    dtype: str = ""

    @property
    def agree(self) -> bool | None:
        """Log-likelihoods within tolerance and each metric within what near-ties could flip (plus 1e-6)."""
        if not self.available or self.max_ll_diff is None:
            return None
        allowed = self.near_ties / max(1, self.n) + 1e-6
        metrics_close = all(abs(self.theirs[k] - self.ours[k]) <= allowed for k in self.theirs if k in self.ours)
        return self.max_ll_diff <= self.tolerance and metrics_close

    def summary(self) -> str:
        if not self.available:
            return f"not run: {self.reason}"
        pairs = ", ".join(
            f"{k} ours {self.ours.get(k, float('nan')):.4f} / lm-eval {v:.4f}" for k, v in self.theirs.items()
        )
        return f"{pairs}; max |Δ log-likelihood| {self.max_ll_diff:.2e}; agree={self.agree}"

    def metrics(self, metric_cls) -> list:
        if not self.available:
            return [
                metric_cls(
                    "lm_eval_available", 0.0, metadata={"task": self.task, "reason": self.reason, "lm_eval": "not run"}
                )
            ]
        shared = {
            "task": self.task,
            "agree": self.agree,
            "tolerance": self.tolerance,
            "prompts_match": self.prompts_match,
            "max_ll_diff": self.max_ll_diff,
            "near_ties": self.near_ties,
            "task_folder": self.task_folder,
            "dtype": self.dtype,
        }
        out = [
            metric_cls(
                f"lm_eval_{name}",
                value,
                n=self.n,
                metadata={**shared, "ours": self.ours.get(name), "difference": value - self.ours.get(name, value)},
            )
            for name, value in self.theirs.items()
        ]
        out.append(
            metric_cls(
                TASKS[self.task].ll_diff_name,
                float(self.max_ll_diff),
                n=self.n,
                higher_is_better=False,
                metadata=shared,
            )
        )
        return out


def cross_check(
    task: str,
    rows: list[dict[str, Any]],
    *,
    model_path: Path,
    folder: Path,
    batch_size: int,
    ours: dict[str, float],
    our_lls: list[list[float]],
    our_pairs: list[list[tuple[str, str]]] | None = None,
) -> CrossCheck:
    spec = TASKS[task]
    ours = {k: v for k, v in ours.items() if k in spec.metric_names.values()}
    ok, reason = lm_eval_status()
    if not ok:
        return CrossCheck(task, False, reason, ours=ours)
    name, root = write_task(task, rows, folder)
    model_args, device, dtype = _model_args(model_path)
    try:
        import lm_eval
        from lm_eval.tasks import TaskManager

        result = lm_eval.simple_evaluate(
            model="hf",
            model_args=model_args,
            tasks=[name],
            task_manager=TaskManager(include_path=str(root), include_defaults=False),
            batch_size=batch_size,
            device=device,
            log_samples=True,
            bootstrap_iters=0,
        )
    except Exception as exc:  # lm-eval failing must not fail our suite; the metric says why
        return CrossCheck(task, False, f"lm-eval failed: {type(exc).__name__}: {exc}", ours=ours, task_folder=str(root))
    numbers = result["results"][name]
    theirs = {ours_name: float(numbers[f"{key},none"]) for key, ours_name in spec.metric_names.items()}
    samples = sorted(result["samples"][name], key=lambda s: s["doc_id"])
    diffs, near_ties, prompts_match = [], 0, True
    for i, sample in enumerate(samples):
        pairs, lls = _sample_pairs_and_lls(sample)
        mine = our_lls[sample["doc_id"]]
        if len(lls) != len(mine):
            return CrossCheck(task, False, f"lm-eval scored {len(lls)} choices for row {i}, we scored {len(mine)}")
        delta = max(abs(a - b) for a, b in zip(lls, mine, strict=True))
        diffs.append(delta)
        top = sorted(mine, reverse=True)
        if len(top) > 1 and top[0] - top[1] <= 2 * delta + 1e-9:
            near_ties += 1
        if our_pairs is not None and [tuple(p) for p in pairs] != [tuple(p) for p in our_pairs[sample["doc_id"]]]:
            prompts_match = False
    tolerance = 1e-3 if dtype == "float32" else 0.25
    return CrossCheck(
        task,
        True,
        theirs=theirs,
        ours=ours,
        max_ll_diff=max(diffs) if diffs else 0.0,
        prompts_match=prompts_match if our_pairs is not None else None,
        near_ties=near_ties,
        n=len(samples),
        tolerance=tolerance,
        task_folder=str(root),
        dtype=dtype,
    )
