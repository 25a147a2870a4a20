"""The tokenizer report (how well a tokenizer compresses held-out text) and the table that compares several.

``build_report`` runs in the runner; ``compare_reports`` is a pure function over stored reports (JSON), so a job
page can put tokenizers trained on the same dataset side by side without loading any of them. Every number is
measured on the dataset's validation split (test, then train, when it is empty) over the whole split, counted by
the shard workers while they encode it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

REPORT_FORMAT = "plumbline.tokenizer_report/1"
TOP_TOKENS = 20

# key, label, which direction is better (None: not ranked)
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("algorithm", "Algorithm", None),
    ("vocab_size", "Vocabulary size", None),
    ("chars_per_token", "Characters per token", "higher"),
    ("bytes_per_token", "Bytes per token", "higher"),
    ("tokens_per_word", "Tokens per word", "lower"),
    ("unk_rate", "Unknown-token rate", "lower"),
    ("vocab_usage", "Vocabulary used", "higher"),
    ("tokens", "Tokens", "lower"),
    ("doc_tokens_p50", "Tokens per document (median)", None),
    ("training_seconds", "Training seconds", None),
)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def build_report(
    *,
    config: Mapping[str, Any],
    trained: Mapping[str, Any],
    dataset: Mapping[str, Any],
    split: str,
    stats: Sequence[Mapping[str, Any]],
    doc_tokens: Any,
    counts: Any,
    token_text,
) -> dict[str, Any]:
    """``stats``: the split's part counts; ``doc_tokens``: its per-document token counts (numpy, EOS included);
    ``counts``: how often each id occurred (numpy) or None; ``token_text(id) -> (token, surface text)``."""
    import numpy as np

    total = {k: sum(int(s.get(k, 0)) for s in stats) for k in ("documents", "tokens", "text_tokens", "chars")}
    total.update({k: sum(int(s.get(k, 0)) for s in stats) for k in ("bytes", "words", "unk")})
    vocab_size = int(trained["vocab_size"])
    lengths = np.asarray(doc_tokens, dtype=np.int64)
    evaluation: dict[str, Any] = {
        "split": split,
        "documents": total["documents"],
        "chars": total["chars"],
        "bytes": total["bytes"],
        "words": total["words"],
        "tokens": total["text_tokens"],
        "chars_per_token": _ratio(total["chars"], total["text_tokens"]),
        "bytes_per_token": _ratio(total["bytes"], total["text_tokens"]),
        "tokens_per_word": _ratio(total["text_tokens"], total["words"]),
        "unk_tokens": total["unk"],
        "unk_rate": _ratio(total["unk"], total["text_tokens"]) if total["text_tokens"] else None,
    }
    if lengths.size:
        p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
        evaluation.update(doc_tokens_p50=float(p50), doc_tokens_p90=float(p90), doc_tokens_p99=float(p99))
        evaluation["doc_tokens_max"] = int(lengths.max())
    top: list[dict[str, Any]] = []
    if counts is not None:
        counts = np.asarray(counts)
        used = int(np.count_nonzero(counts))
        evaluation.update(vocab_used=used, vocab_usage=_ratio(used, vocab_size))
        ranked = np.argsort(-counts, kind="stable")[:TOP_TOKENS]
        for token_id in ranked:
            if counts[token_id] == 0:
                break
            token, text = token_text(int(token_id))
            top.append({"id": int(token_id), "token": token, "text": text, "count": int(counts[token_id])})
    return {
        "format": REPORT_FORMAT,
        "tokenizer": {
            "algorithm": config["algorithm"],
            "vocab_size": vocab_size,
            "requested_vocab_size": config["vocab_size"],
            "min_frequency": config["min_frequency"],
            "normalization": config["normalization"],
            "lowercase": config["lowercase"],
            "special_token_ids": dict(trained["special_token_ids"]),
        },
        "dataset": dict(dataset),
        "training": {
            "documents": trained["training_documents"],
            "chars": trained["training_chars"],
            "seconds": trained["training_seconds"],
        },
        "evaluation": evaluation,
        "top_tokens": top,
        "samples": [{k: s[k] for k in ("id", "text", "tokens", "n_tokens")} for s in trained.get("samples", [])],
    }


def _row_values(report: Mapping[str, Any]) -> dict[str, Any]:
    tokenizer = report.get("tokenizer") or {}
    evaluation = report.get("evaluation") or {}
    training = report.get("training") or {}
    return {
        "algorithm": tokenizer.get("algorithm"),
        "vocab_size": tokenizer.get("vocab_size"),
        "training_seconds": training.get("seconds"),
        **{key: evaluation.get(key) for key, _, _ in COLUMNS if key in evaluation},
    }


def _default_label(report: Mapping[str, Any], index: int) -> str:
    tokenizer = report.get("tokenizer") or {}
    if tokenizer.get("algorithm"):
        return f"{tokenizer['algorithm']} {tokenizer.get('vocab_size', '?')}"
    return f"tokenizer {index + 1}"


def _labelled(reports) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(reports, Mapping):
        if "format" in reports:
            raise TypeError("compare_reports takes several reports: a list, or a mapping of label to report")
        return [(str(label), report) for label, report in reports.items()]
    out = []
    for index, item in enumerate(reports):
        if isinstance(item, tuple):
            out.append((str(item[0]), item[1]))
        else:
            out.append((str(item.get("label") or _default_label(item, index)), item))
    return out


def compare_reports(reports) -> dict[str, Any]:
    """A comparison table: one row per tokenizer, the best value of each ranked column marked, a warning when the
    reports were measured on different data, and the sample documents they share, tokenized by each.

    ``reports``: a list of reports (labelled by their ``label`` key, else algorithm and vocabulary size), a list of
    ``(label, report)`` pairs, or a mapping of label to report.
    """
    items = _labelled(reports)
    rows = [{"label": label, "values": _row_values(report), "best": []} for label, report in items]
    for key, _, better in COLUMNS:
        numbers = [r["values"][key] for r in rows if isinstance(r["values"].get(key), int | float)]
        if better is None or len(numbers) < 2:
            continue
        target = max(numbers) if better == "higher" else min(numbers)
        for row in rows:
            if row["values"].get(key) == target:
                row["best"].append(key)
    datasets = sorted(
        {
            ((r.get("dataset") or {}).get("fingerprint") or "?", (r.get("evaluation") or {}).get("split") or "?")
            for _, r in items
        }
    )
    warnings = []
    if len(datasets) > 1:
        warnings.append(
            "These tokenizers were measured on different data (dataset or split differ); their ratios are not "
            "directly comparable."
        )
    return {
        "columns": [{"key": key, "label": label, "better": better} for key, label, better in COLUMNS],
        "rows": rows,
        "same_data": len(datasets) <= 1,
        "datasets": [{"fingerprint": fp, "split": split} for fp, split in datasets],
        "warnings": warnings,
        "samples": _shared_samples(items),
    }


def _shared_samples(items: list[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Sample documents present in every report, each with every tokenizer's split (same text: same cut)."""
    if not items:
        return []
    by_report = [{s.get("id"): s for s in (report.get("samples") or [])} for _, report in items]
    shared = []
    for sample in items[0][1].get("samples") or []:
        doc_id = sample.get("id")
        if not all(doc_id in samples and samples[doc_id].get("text") == sample.get("text") for samples in by_report):
            continue
        shared.append(
            {
                "id": doc_id,
                "text": sample.get("text"),
                "tokenizations": [
                    {
                        "label": label,
                        "tokens": samples[doc_id].get("tokens", []),
                        "n_tokens": samples[doc_id].get("n_tokens"),
                    }
                    for (label, _), samples in zip(items, by_report, strict=True)
                ],
            }
        )
    return shared
