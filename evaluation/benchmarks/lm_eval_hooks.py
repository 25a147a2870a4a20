"""Document processing shared by our suites and the local lm-eval tasks (one definition, so both see equal text).

This file is copied beside the generated task YAML (lm-eval resolves ``!function hooks.name`` relative to the YAML),
so it imports nothing of ours: standard library and numpy only.
"""

from __future__ import annotations

import re

import numpy as np


def hellaswag_clean(text: str) -> str:
    """HellaSwag's WikiHow markup out: " [title]" ends a sentence, other [tags] go, double spaces collapse."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def hellaswag_query(doc: dict) -> str:
    if "ctx_a" in doc or "ctx_b" in doc:
        context = (doc.get("ctx_a") or "") + " " + (doc.get("ctx_b") or "").capitalize()
    else:
        context = doc["ctx"]
    label = doc.get("activity_label") or ""
    return hellaswag_clean(f"{label}: {context}" if label else context)


def hellaswag_process_docs(dataset):
    def process(doc):
        return {
            "query": hellaswag_query(doc),
            "options": [hellaswag_clean(ending) for ending in doc["endings"]],
            "gold": int(doc["label"]),
        }

    return dataset.map(process)


def mc2_process_results(doc, results):
    """TruthfulQA MC2 for lm-eval: the normalized probability mass of the true answers."""
    lls = np.asarray([ll for ll, _ in results], dtype=float)
    labels = np.asarray(doc["mc2_targets"]["labels"], dtype=bool)
    weights = np.exp(lls - lls.max())
    return {"acc": float(weights[labels].sum() / weights.sum())}
