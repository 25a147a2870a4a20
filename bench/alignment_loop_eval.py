"""The scripted annotator's rule and the evaluation of bench/alignment_loop.py: head-to-head, reward model, report."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _alignment_common as common
import harness

TARGETS = {"reward_model_accuracy": 0.90, "dpo_win_rate": 0.70}


def annotator_likes(text: str) -> bool:
    """The scripted annotator's whole taste."""
    return text.rstrip().endswith(".")


def rule_ranking(responses: list[dict]) -> list:
    """The annotator's ranking of a task's responses: those ending in a period first, tied among themselves."""
    good = [r["id"] for r in responses if annotator_likes(r["text"])]
    bad = [r["id"] for r in responses if not annotator_likes(r["text"])]
    return [group for group in (good, bad) if group]


# --- evaluation -----------------------------------------------------------------------------------------------


def head_to_head(generations: list[dict], sft: int, dpo: int) -> tuple[dict, list[dict]]:
    """Sample i of the DPO model against sample i of the SFT model, per prompt, by the annotator's rule."""
    by = {}
    for row in generations:
        by.setdefault((row["prompt_id"], row["model_version"]), []).append(row)
    wins = ties = losses = 0
    sft_good = dpo_good = 0
    decided: list[dict] = []
    examples: list[dict] = []
    words = {"sft": 0, "dpo": 0}
    formed = {"sft": 0, "dpo": 0}
    for (prompt_id, version), rows in by.items():
        if version != f"artifact:{dpo}":
            continue
        theirs = sorted(
            by.get((prompt_id, f"artifact:{sft}"), []), key=lambda r: r["generation_params"]["sample_index"]
        )
        mine = sorted(rows, key=lambda r: r["generation_params"]["sample_index"])
        for a, b in zip(mine, theirs, strict=True):
            ga, gb = annotator_likes(a["text"]), annotator_likes(b["text"])
            dpo_good += ga
            sft_good += gb
            words["dpo"] += len(a["text"].split())
            words["sft"] += len(b["text"].split())
            formed["dpo"] += common.well_formed(a["text"])
            formed["sft"] += common.well_formed(b["text"])
            if len(examples) < 12:
                examples.append({"sft": b["text"], "dpo": a["text"]})
            if ga and not gb:
                wins += 1
                decided.append({"prompt_id": prompt_id, "chosen": a["text"], "rejected": b["text"]})
            elif gb and not ga:
                losses += 1
                decided.append({"prompt_id": prompt_id, "chosen": b["text"], "rejected": a["text"]})
            else:
                ties += 1
    n = wins + ties + losses
    rate = (wins + ties / 2) / n
    return {
        "pairs": n,
        "wins": wins,
        "ties": ties,
        "losses": losses,
        "win_rate": rate,
        "win_rate_95ci": ci95(rate, n),
        "win_rate_decided_only": wins / (wins + losses) if wins + losses else None,
        "sft_ends_with_period": sft_good / n,
        "dpo_ends_with_period": dpo_good / n,
        "mean_words": {k: v / n for k, v in words.items()},
        "well_formed": {k: v / n for k, v in formed.items()},
        "examples": examples,
    }, decided


def ci95(p: float, n: int) -> list[float]:
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-9) / n)
    return [round(max(0.0, p - half), 3), round(min(1.0, p + half), 3)]


def reward_model_on(pairs: list[dict], prompts: dict, rm_path: Path) -> float | None:
    """The trained reward model's accuracy on fresh pairs (the policies' test samples the rule decides)."""
    if not pairs:
        return None
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training.alignment.reward import pairwise_accuracy

    tokenizer = AutoTokenizer.from_pretrained(rm_path)
    model = AutoModelForSequenceClassification.from_pretrained(rm_path, num_labels=1)
    rows = [
        {
            "prompt": [{"role": "user", "content": prompts[p["prompt_id"]]}],
            "chosen": [{"role": "assistant", "content": p["chosen"]}],
            "rejected": [{"role": "assistant", "content": p["rejected"]}],
        }
        for p in pairs
    ]
    return pairwise_accuracy(model, tokenizer, Dataset.from_list(rows), max_length=128)


def report(result: dict, elapsed: float) -> str:
    rm, h2h = result["reward_model"], result["dpo_vs_sft"]
    lines = [
        f"prompts {result['prompts']}, demonstrations {result['demonstrations']}, comparison tasks "
        f"{result['judged']['tasks']} ({result['judged']['all_tied']} all tied), "
        f"preference pairs {result['preference_snapshot']['rows']} "
        f"(train {result['preference_snapshot']['train']}, validation {result['preference_snapshot']['validation']}, "
        f"test {result['preference_snapshot']['test']}), API requests {result['api_requests']}",
        "",
        harness.table(
            [
                [
                    f"reward model: held-out accuracy (validation prompts' pairs, n={rm['validation_pairs']})",
                    f"{rm['validation_accuracy']:.3f}",
                    f"≥ {TARGETS['reward_model_accuracy']}",
                ],
                [
                    f"reward model: accuracy on the policies' test pairs (n={rm['policy_test_pairs']})",
                    "-"
                    if rm["accuracy_on_policy_test_pairs"] is None
                    else f"{rm['accuracy_on_policy_test_pairs']:.3f}",
                    "",
                ],
                [
                    f"DPO vs SFT win rate, ties half (n={h2h['pairs']}, 95% CI {h2h['win_rate_95ci']})",
                    f"{h2h['win_rate']:.3f}",
                    f"≥ {TARGETS['dpo_win_rate']}",
                ],
                ["  wins / ties / losses", f"{h2h['wins']} / {h2h['ties']} / {h2h['losses']}", ""],
                [
                    "  share ending with a period: SFT -> DPO",
                    f"{h2h['sft_ends_with_period']:.2f} -> {h2h['dpo_ends_with_period']:.2f}",
                    "",
                ],
                [
                    "  share that is a well-formed sentence of the grammar: SFT -> DPO",
                    f"{h2h['well_formed']['sft']:.2f} -> {h2h['well_formed']['dpo']:.2f}",
                    "",
                ],
            ],
            ["figure", "value", "target"],
        ),
        "",
        harness.table(
            [
                [label, j["kind"], j["job"], j["summary"].get("steps", ""), j["seconds"]]
                for label, j in result["jobs"].items()
            ],
            ["job", "kind", "id", "steps", "seconds"],
        ),
        "",
        "stage seconds: " + ", ".join(f"{k} {v}" for k, v in result["stage_seconds"].items()),
        f"total {elapsed:.0f} s",
    ]
    return "\n".join(lines)
