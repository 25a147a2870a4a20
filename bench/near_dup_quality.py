"""Near-duplicate detection quality: recall and precision at Jaccard >= 0.85 on planted pairs.

A generated corpus holds pairs (an original of random words and a copy with words substituted) whose exact
Jaccard similarity of 5-word shingle sets spans 0.5..1.0, with many pairs close to the 0.85 line on both sides.
Every original is indexed first, then every copy goes through the production near-dup step
(``training.corpus.dedup.NearDupIndex``: datasketch's MinHashLSH banding, 14 bands x 8 rows over 112 permutations, then
verification) with the threshold at 0.85. A copy flagged as a duplicate of its own original is a true positive
when the pair's true Jaccard is >= 0.85 and a false positive otherwise; a flag pointing at any other document is a
false positive too. Both verification modes are measured: exact (shingle sets, the default) and the MinHash
signature estimate.

Usage: ``python bench/near_dup_quality.py --pairs 150``. Results: a table on stdout and JSON under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

harness.ensure_repo_on_path()

TARGETS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.95, 1.0]
THRESHOLD = 0.85
GOALS = {"recall": 0.95, "precision": 0.99}


def evaluate(pairs, verify: str, store: Path) -> dict:
    from training.corpus.config import NearDupConfig
    from training.corpus.dedup import NearDupIndex
    from training.corpus.minhash import shingles, signature

    cfg = NearDupConfig(threshold=THRESHOLD, verify=verify)
    index = NearDupIndex(cfg, store)
    started = time.perf_counter()
    for key, pair in enumerate(pairs):
        hashes = shingles(pair.original, cfg.shingle_size)
        if index.check(key, signature(hashes, cfg.num_perm, cfg.seed), hashes) is not None:
            raise RuntimeError("two random originals matched: the generator is broken")
    tp = fp = fn = tn = 0
    by_target: dict[float, list[int]] = {}
    for key, pair in enumerate(pairs):
        hashes = shingles(pair.copy, cfg.shingle_size)
        found = index.check(len(pairs) + key, signature(hashes, cfg.num_perm, cfg.seed), hashes)
        flagged = found is not None
        correct_partner = flagged and found[0] == key
        positive = pair.jaccard >= THRESHOLD
        if positive and correct_partner:
            tp += 1
        elif flagged and not (positive and correct_partner):
            fp += 1
        elif positive:
            fn += 1
        else:
            tn += 1
        by_target.setdefault(pair.target, [0, 0])
        by_target[pair.target][0] += flagged
        by_target[pair.target][1] += 1
    seconds = time.perf_counter() - started
    index.close()
    return {
        "verify": verify,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "true_negatives": tn,
        "recall": round(tp / max(tp + fn, 1), 4),
        "precision": round(tp / max(tp + fp, 1), 4),
        "flagged_share_by_target": {str(t): round(f / n, 4) for t, (f, n) in sorted(by_target.items())},
        "documents_per_s": round(2 * len(pairs) / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=150, help="pairs per target similarity")
    parser.add_argument("--words", type=int, default=500, help="words per document")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from training.corpus.planted import planted_corpus

    print(f"planting {args.pairs} pairs at each of {TARGETS} ...", flush=True)
    started = time.perf_counter()
    pairs = planted_corpus(TARGETS, args.pairs, words=args.words, seed=args.seed)
    generated_s = time.perf_counter() - started
    similarities = [p.jaccard for p in pairs]
    results = {
        "machine": harness.machine_info(),
        "threshold": THRESHOLD,
        "pairs": len(pairs),
        "positives": sum(s >= THRESHOLD for s in similarities),
        "true_jaccard_range": [round(min(similarities), 4), round(max(similarities), 4)],
        "generation_s": round(generated_s, 1),
        "lsh_collision_probability": {
            str(s): round(1 - (1 - s**8) ** 14, 4) for s in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
        },
        "modes": [],
    }
    with tempfile.TemporaryDirectory(prefix="plumbline-bench-neardup-") as tmp:
        for verify in ("exact", "signature"):
            results["modes"].append(evaluate(pairs, verify, Path(tmp) / f"{verify}.bin"))

    print(f"{len(pairs)} pairs, {results['positives']} with true Jaccard >= {THRESHOLD}")
    print(f"{'verify':10s} {'recall':>7s} {'precision':>9s} {'TP':>5s} {'FP':>4s} {'FN':>4s} {'docs/s':>8s}")
    for m in results["modes"]:
        print(f"{m['verify']:10s} {m['recall']:7.4f} {m['precision']:9.4f} {m['true_positives']:5d} "
              f"{m['false_positives']:4d} {m['false_negatives']:4d} {m['documents_per_s']:8.1f}")  # fmt: skip
    print("flagged share by planted similarity (exact):", results["modes"][0]["flagged_share_by_target"])
    default = results["modes"][0]
    met = default["recall"] >= GOALS["recall"] and default["precision"] >= GOALS["precision"]
    print(f"targets recall >= {GOALS['recall']}, precision >= {GOALS['precision']}: {'met' if met else 'NOT met'}")
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = harness.RESULTS_DIR / "near_dup_quality.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
