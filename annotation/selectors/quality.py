"""Data quality: inter-annotator agreement (Krippendorff's alpha, pairwise percent agreement) per criterion,
each annotator's agreement with the consensus of the others, and gold accuracy.

A comparison judgment is expanded to one ordinal value per response pair (-1, 0, +1); a 1-7 rating is one ordinal
value per response. Alpha is computed from per-unit value counts, so memory grows with units, not annotators.
"""

from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np

from ..models import Judgment, Project
from ..services.consensus import ranking_pairs

OVERALL = "overall"
PAIR_VALUES = (-1, 0, 1)
RATING_VALUES = tuple(range(1, 8))


def _unit_values(project: Project) -> tuple[dict[str, dict[tuple, dict[int, int]]], list[tuple]]:
    """criterion -> unit -> {annotator_id: value}; plus gold judgments for accuracy."""
    units: dict[str, dict[tuple, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    gold = []
    rows = Judgment.objects.filter(task__project=project).values_list(
        "task_id", "annotator_id", "annotator__username", "ranking", "criteria", "is_gold", "task__gold_ranking"
    )
    for task_id, annotator_id, username, ranking, criteria, is_gold, gold_ranking in rows.iterator(chunk_size=5000):
        if is_gold:
            gold.append((annotator_id, username, ranking, gold_ranking))
            continue
        for lo, hi, outcome in ranking_pairs(ranking):
            units[OVERALL][(task_id, lo, hi)][annotator_id] = outcome
        for name, entry in (criteria or {}).items():
            if "ranking" in entry:
                for lo, hi, outcome in ranking_pairs(entry["ranking"]):
                    units[name][(task_id, lo, hi)][annotator_id] = outcome
            for rid, score in entry.get("ratings", {}).items():
                units[f"{name} (rating)"][(task_id, int(rid))][annotator_id] = score
    return units, gold


def _alpha(unit_values: dict[tuple, dict[int, int]], domain: tuple[int, ...]) -> float | None:
    index = {v: i for i, v in enumerate(domain)}
    counts = [[0] * len(domain) for values in unit_values.values() if len(values) >= 2]
    if not counts:
        return None
    i = 0
    for values in unit_values.values():
        if len(values) < 2:
            continue
        for v in values.values():
            counts[i][index[v]] += 1
        i += 1
    matrix = np.asarray(counts, dtype=float)
    if np.count_nonzero(matrix.sum(axis=0)) < 2:
        return 1.0  # every coder gave the same single value everywhere: perfect, though uninformative
    return float(krippendorff.alpha(value_counts=matrix, level_of_measurement="ordinal"))


def _percent_agreement(unit_values: dict[tuple, dict[int, int]]) -> float | None:
    agree = total = 0
    for values in unit_values.values():
        for a, b in combinations(values.values(), 2):
            total += 1
            agree += a == b
    return agree / total if total else None


def _agreement_with_consensus(unit_values: dict[tuple, dict[int, int]]) -> dict[int, tuple[int, int]]:
    """Per annotator: (agreeing, counted) against the leave-one-out majority of the other annotators."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for values in unit_values.values():
        if len(values) < 2:
            continue
        for annotator, value in values.items():
            others = Counter(v for a, v in values.items() if a != annotator).most_common(2)
            if len(others) == 2 and others[0][1] == others[1][1]:
                continue  # the others are split evenly: no consensus to compare with
            out[annotator][0] += value == others[0][0]
            out[annotator][1] += 1
    return {a: (v[0], v[1]) for a, v in out.items()}


def _gold_accuracy(gold: list[tuple]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for annotator_id, username, ranking, gold_ranking in gold:
        entry = out.setdefault(annotator_id, {"username": username, "items": 0, "top1": 0, "pairs": 0, "pairs_ok": 0})
        entry["items"] += 1
        entry["top1"] += bool(set(ranking[0]) & set(gold_ranking[0]))
        truth = {(lo, hi): o for lo, hi, o in ranking_pairs(gold_ranking)}
        for lo, hi, outcome in ranking_pairs(ranking):
            entry["pairs"] += 1
            entry["pairs_ok"] += truth.get((lo, hi)) == outcome
    for entry in out.values():
        entry["top1_accuracy"] = entry["top1"] / entry["items"]
        entry["pair_accuracy"] = entry["pairs_ok"] / entry["pairs"] if entry["pairs"] else None
    return out


def project_quality(*, project: Project) -> dict[str, Any]:
    units, gold = _unit_values(project)
    names = dict(Judgment.objects.filter(task__project=project).values_list("annotator_id", "annotator__username"))
    criteria = []
    annotators: dict[int, dict[str, Any]] = {
        a: {"username": u, "judgments": 0, "consensus_agreement": None, "consensus_units": 0} for a, u in names.items()
    }
    for a, n in Counter(
        Judgment.objects.filter(task__project=project, is_gold=False).values_list("annotator_id", flat=True)
    ).items():
        annotators[a]["judgments"] = n
    for name, unit_values in sorted(units.items(), key=lambda kv: (kv[0] != OVERALL, kv[0])):
        domain = RATING_VALUES if name.endswith("(rating)") else PAIR_VALUES
        multi = sum(1 for v in unit_values.values() if len(v) >= 2)
        criteria.append(
            {
                "criterion": name,
                "units": len(unit_values),
                "units_with_overlap": multi,
                "krippendorff_alpha": _alpha(unit_values, domain),
                "percent_agreement": _percent_agreement(unit_values),
            }
        )
        if name == OVERALL:
            for a, (ok, counted) in _agreement_with_consensus(unit_values).items():
                annotators[a]["consensus_agreement"] = ok / counted if counted else None
                annotators[a]["consensus_units"] = counted
    gold_stats = _gold_accuracy(gold)
    for a, entry in gold_stats.items():
        annotators.setdefault(a, {"username": entry["username"], "judgments": 0, "consensus_agreement": None})
        annotators[a]["gold_items"] = entry["items"]
        annotators[a]["gold_top1_accuracy"] = entry["top1_accuracy"]
        annotators[a]["gold_pair_accuracy"] = entry["pair_accuracy"]
    return {
        "project": project.pk,
        "criteria": criteria,
        "annotators": sorted(annotators.values(), key=lambda e: e["username"]),
    }
