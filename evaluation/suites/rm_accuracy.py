"""Reward-model accuracy on held-out human preference pairs from a snapshot, with a bootstrap 95% interval."""

import numpy as np

from . import Example, Metric, SuiteResult, SuiteSpec


def run(spec: SuiteSpec) -> SuiteResult:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training.alignment.trl_common import read_rows

    pairs_path = spec.inputs.get("preferences")
    if pairs_path is None:
        raise ValueError("rm_accuracy needs preferences (a preference snapshot)")
    rm_path = spec.inputs.get("reward_model") or spec.model_path
    rows = [r for r in read_rows(pairs_path) if r.get("split") in ("validation", "test")] or read_rows(pairs_path)
    if spec.config.limit:
        rows = rows[: spec.config.limit]
    if not rows:
        raise ValueError("the preference snapshot holds no pairs")
    tokenizer = AutoTokenizer.from_pretrained(rm_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(rm_path, num_labels=1).eval()
    model.config.pad_token_id = tokenizer.pad_token_id

    def text(prompt, answer):
        if isinstance(prompt, list):
            return tokenizer.apply_chat_template(prompt + answer, tokenize=False)
        return prompt + answer

    wins, examples = [], []
    with torch.no_grad():
        for start in range(0, len(rows), spec.config.batch_size):
            chunk = rows[start : start + spec.config.batch_size]
            texts = [text(r["prompt"], r["chosen"]) for r in chunk] + [text(r["prompt"], r["rejected"]) for r in chunk]
            enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=1024)
            scores = model(**enc).logits.squeeze(-1).float().tolist()
            for i, row in enumerate(chunk):
                chosen, rejected = scores[i], scores[len(chunk) + i]
                wins.append(chosen > rejected)
                examples.append(
                    Example(
                        input=str(row["prompt"])[:2000],
                        output=str(row["chosen"])[:2000],
                        reference=str(row["rejected"])[:2000],
                        score=chosen - rejected,
                        correct=chosen > rejected,
                        metadata={"pair": row.get("id"), "margin": row.get("margin")},
                    )
                )
            spec.ctx.check_cancelled()
    arr = np.asarray(wins, dtype=float)
    rng = np.random.default_rng(spec.config.seed)
    boots = [arr[rng.integers(0, len(arr), len(arr))].mean() for _ in range(1000)]
    low, high = np.percentile(boots, [2.5, 97.5])
    return SuiteResult(
        metrics=[Metric("accuracy", float(arr.mean()), n=len(arr), ci_low=float(low), ci_high=float(high))],
        examples=examples,
    )
