"""Win rate of a model against a baseline on the same prompts, judged by a reward model.

Ties count as half; the interval is a bootstrap 95% interval; the length-controlled win rate is the win probability
a logistic model of (win ~ length difference) predicts at equal lengths (the idea of AlpacaEval's LC win rate).
"""

import numpy as np

from . import Example, Metric, SuiteResult, SuiteSpec
from .prompts import heldout_prompts, render


def generate_pair(spec: SuiteSpec, prompts: list[dict]) -> tuple[list[str], list[str]]:
    from ..model_io import generate, load_causal_lm

    baseline_path = spec.inputs.get("baseline")
    if baseline_path is None:
        raise ValueError(f"{spec.name} needs a baseline model version")
    outputs = []
    for loader in (lambda: spec.model, lambda: load_causal_lm(baseline_path)):
        model, tokenizer = loader()
        texts = [render(tokenizer, p["messages"]) for p in prompts]
        outs = generate(
            model,
            tokenizer,
            texts,
            max_new_tokens=spec.config.max_new_tokens,
            seed=spec.config.seed,
            batch_size=spec.config.batch_size,
        )
        outputs.append([o[0].strip() for o in outs])
        spec.ctx.check_cancelled()
    return outputs[0], outputs[1]


def rm_scores(rm_path, prompts: list[dict], answers: list[str], batch_size: int) -> list[float]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(rm_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(rm_path, num_labels=1).eval()
    model.config.pad_token_id = tokenizer.pad_token_id
    texts = []
    for p, a in zip(prompts, answers, strict=True):
        conv = [*p["messages"], {"role": "assistant", "content": a}]
        texts.append(
            tokenizer.apply_chat_template(conv, tokenize=False)
            if tokenizer.chat_template
            else render(tokenizer, p["messages"]) + a
        )
    scores: list[float] = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                texts[start : start + batch_size], return_tensors="pt", padding=True, truncation=True, max_length=1024
            )
            scores.extend(model(**enc).logits.squeeze(-1).float().tolist())
    return scores


def win_statistics(outcomes: list[float], length_diffs: list[float], seed: int = 0) -> list[Metric]:
    """Win rate with a bootstrap interval, and the length-controlled win rate."""
    arr = np.asarray(outcomes, dtype=float)
    rng = np.random.default_rng(seed)
    boots = [arr[rng.integers(0, len(arr), len(arr))].mean() for _ in range(1000)]
    low, high = np.percentile(boots, [2.5, 97.5])
    metrics = [
        Metric("win_rate", float(arr.mean()), n=len(arr), ci_low=float(low), ci_high=float(high)),
        Metric("ties", float((arr == 0.5).mean()), n=len(arr), higher_is_better=False),
        Metric("length_controlled_win_rate", length_controlled(arr, np.asarray(length_diffs, dtype=float)), n=len(arr)),
    ]
    return metrics


def length_controlled(outcomes: np.ndarray, length_diffs: np.ndarray, iterations: int = 200) -> float:
    """sigmoid(a) of a logistic fit outcome ~ a + b·tanh(diff / std): the win rate at equal length."""
    scale = length_diffs.std() or 1.0
    x = np.tanh(length_diffs / scale)
    a = b = 0.0
    for _ in range(iterations):  # Newton steps on the (soft-label) logistic likelihood, lightly regularized
        p = 1 / (1 + np.exp(-(a + b * x)))
        w = p * (1 - p) + 1e-9
        g = np.array([np.sum(outcomes - p), np.sum((outcomes - p) * x) - 1e-3 * b])
        h = np.array([[np.sum(w), np.sum(w * x)], [np.sum(w * x), np.sum(w * x * x) + 1e-3]])
        step = np.linalg.solve(h, g)
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(1 / (1 + np.exp(-a)))


def run(spec: SuiteSpec) -> SuiteResult:
    rm_path = spec.inputs.get("reward_model")
    if rm_path is None:
        raise ValueError("win_rate needs a reward_model to judge")
    prompts = heldout_prompts(spec)
    ours, theirs = generate_pair(spec, prompts)
    s_ours = rm_scores(rm_path, prompts, ours, spec.config.batch_size)
    s_theirs = rm_scores(rm_path, prompts, theirs, spec.config.batch_size)
    outcomes, diffs, examples = [], [], []
    for p, a, b, sa, sb in zip(prompts, ours, theirs, s_ours, s_theirs, strict=True):
        outcome = 0.5 if abs(sa - sb) < 1e-6 else float(sa > sb)
        outcomes.append(outcome)
        diffs.append(len(a) - len(b))
        examples.append(
            Example(
                input=p["messages"][-1]["content"][:2000],
                output=a[:4000],
                reference=b[:4000],
                score=sa - sb,
                correct=outcome == 1.0,
                metadata={"outcome": outcome},
            )
        )
    return SuiteResult(metrics=win_statistics(outcomes, diffs, spec.config.seed), examples=examples)
