"""Evaluation throughput: log-likelihood scoring of multiple-choice items against a plain batched forward pass.

One run, one model, the same token sequences:

- ``scoring``: ``evaluation.model_io.continuation_logprobs`` on every (context, " " + choice) pair, as the MMLU /
  HellaSwag / TruthfulQA suites call it — tokenization included, sums of continuation log-probabilities and the
  greedy flags out;
- ``forward``: the floor it is held to — the very input ids scoring feeds the model (pre-tokenized, not timed), in
  the items' order, right-padded in batches of the same size, ``model(input_ids, attention_mask).logits`` and
  nothing else;
- ``forward_sorted``: the same forward pass over the batches scoring makes (longest first), separating what sorting
  saves from what the rest of the scoring costs;
- ``naive``: the first implementation of the scoring (kept here verbatim in spirit: tokens of context and
  continuation encoded separately, batches in input order, ``log_softmax`` over every position and the whole
  vocabulary, a Python loop per example with its own device transfers), to show what the optimization bought.

Target: scoring examples/s ÷ forward examples/s ≥ 0.9. The three alternate for ``--rounds`` rounds and the median
is reported; on a machine shared with other work the CPU-seconds column shows what the process itself used.

Items are built from what every machine has: sentences of the standard library's docstrings (context: 1-4
sentences, choices: the true next sentence and three from elsewhere, like HellaSwag), tokenized with the 8192-entry
BPE of bench/common_shards.py. The model is a Llama of 4 layers, hidden 256, built from config (random weights:
throughput does not depend on what the weights know).

Usage: ``python bench/eval_throughput.py`` (about 3-5 minutes on 2 shared cores; ``--items 64 --rounds 2`` for a
quick look). Results: a table on stdout, JSON in var/bench/. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from training.pretraining.cpu_defaults import apply_cpu_env_defaults, cpu_threads  # noqa: E402  (no torch import)

apply_cpu_env_defaults()  # what a CPU worker gets: must precede the first torch import of the process

import common_shards  # noqa: E402
import harness  # noqa: E402

CHOICES = 4


def make_items(n_items: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    docs = common_shards.stdlib_documents(3_000_000)
    split = [[s for s in re.split(r"(?<=[.!?])\s+", d.replace("\n", " ")) if 20 <= len(s) <= 240] for d in docs]
    split = [s for s in split if len(s) >= 6]
    pool = [s for sents in split for s in sents]
    rng = random.Random(seed)
    items = []
    while len(items) < n_items:
        sents = rng.choice(split)
        i = rng.randrange(4, len(sents))
        context = " ".join(sents[i - rng.randint(1, 4) : i])
        choices = [sents[i], *rng.sample(pool, CHOICES - 1)]
        rng.shuffle(choices)
        items.append((context, choices))
    return items


def build_model(vocab_size: int, tokenizer, device: str, dtype):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config).to(device=device, dtype=dtype).eval()


def forward_only(model, sequences: list[list[int]], batch_size: int, pad_id: int) -> None:
    import torch

    dev = next(model.parameters()).device
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            chunk = sequences[start : start + batch_size]
            width = max(len(s) for s in chunk)
            batch = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, ids in enumerate(chunk):
                batch[r, : len(ids)] = torch.tensor(ids)
                mask[r, : len(ids)] = 1
            logits = model(input_ids=batch.to(dev), attention_mask=mask.to(dev)).logits
            if logits.is_cuda:
                torch.cuda.synchronize()


def naive_scoring(model, tokenizer, pairs, batch_size: int):
    """The scoring as first written (evaluation/model_io.py before its optimization), for comparison."""
    import torch

    out = []
    dev = next(model.parameters()).device
    max_len = model.config.max_position_embeddings
    encoded = []
    with torch.no_grad():
        for context, continuation in pairs:
            ctx_ids = tokenizer(context, add_special_tokens=False).input_ids
            cont_ids = tokenizer(continuation, add_special_tokens=False).input_ids
            ids = (ctx_ids + cont_ids)[-max_len:]
            encoded.append((ids, len(cont_ids)))
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start : start + batch_size]
            width = max(len(ids) for ids, _ in chunk)
            batch = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (ids, _) in enumerate(chunk):
                batch[i, : len(ids)] = torch.tensor(ids)
                mask[i, : len(ids)] = 1
            logits = model(input_ids=batch.to(dev), attention_mask=mask.to(dev)).logits.float()
            logprobs = torch.log_softmax(logits, dim=-1)
            for i, (ids, n_cont) in enumerate(chunk):
                positions = torch.arange(len(ids) - n_cont - 1, len(ids) - 1, device=dev)
                targets = torch.tensor(ids[-n_cont:], device=dev)
                token_lp = logprobs[i, positions, targets]
                greedy = bool((logprobs[i, positions].argmax(-1) == targets).all())
                out.append((float(token_lp.sum()), n_cont, greedy))
    return out


def timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=128, help="multiple-choice items (4 choices each)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-naive", action="store_true", help="skip the pre-optimization scoring")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for other work to calm down")
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from evaluation.model_io import continuation_logprobs, encode_pair

    device = "cuda" if torch.cuda.is_available() else "cpu"
    threads = cpu_threads()
    if device == "cpu":
        torch.set_num_threads(threads)
    dtype = getattr(torch, args.dtype)
    shards = common_shards.docstring_shards(8192)
    tokenizer = AutoTokenizer.from_pretrained(shards.parent / "tokenizer")
    model = build_model(len(tokenizer), tokenizer, device, dtype)
    items = make_items(args.items)
    pairs = [(context, " " + choice) for context, choices in items for choice in choices]
    max_len = model.config.max_position_embeddings
    sequences = []
    for context, continuation in pairs:
        ctx_ids, cont_ids = encode_pair(tokenizer, context, continuation)
        sequences.append((ctx_ids + cont_ids)[-(max_len + 1) :][:-1])
    tokens = sum(len(s) for s in sequences)
    by_length = sorted(sequences, key=len, reverse=True)
    print(
        f"{len(items)} items, {len(pairs)} sequences, {tokens} tokens (mean {tokens / len(pairs):.0f}, "
        f"max {max(len(s) for s in sequences)}); {device}, {args.dtype}, {threads} threads, batch {args.batch_size}"
    )
    quiet = harness.wait_for_quiet(args.quiet_wait) if device == "cpu" else {}

    candidates = {
        "scoring": lambda: continuation_logprobs(model, tokenizer, pairs, batch_size=args.batch_size),
        "forward": lambda: forward_only(model, sequences, args.batch_size, tokenizer.pad_token_id),
        "forward_sorted": lambda: forward_only(model, by_length, args.batch_size, tokenizer.pad_token_id),
    }
    if not args.no_naive:
        candidates["naive"] = lambda: naive_scoring(model, tokenizer, pairs, args.batch_size)
    # warm-up (allocator, kernels, tokenizer caches) on one batch
    continuation_logprobs(model, tokenizer, pairs[: args.batch_size], batch_size=args.batch_size)
    forward_only(model, sequences[: args.batch_size], args.batch_size, tokenizer.pad_token_id)

    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    outputs = {}
    for r in range(args.rounds):
        names = list(candidates) if r % 2 == 0 else list(reversed(candidates))
        for name in names:
            wall, cpu, result = timed(candidates[name])
            samples[name].append((wall, cpu))
            outputs[name] = result
            print(f"round {r + 1} {name:8s} {wall:7.2f}s wall  {cpu:7.2f}s CPU  {len(items) / wall:7.1f} items/s")

    summary = {}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        summary[name] = {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "items_per_s": round(len(items) / wall, 2),
            "sequences_per_s": round(len(pairs) / wall, 2),
            "tokens_per_s": round(tokens / wall, 1),
            "items_per_cpu_s": round(len(items) / cpu, 2) if cpu else None,
        }
    ratio = summary["forward"]["wall_s"] / summary["scoring"]["wall_s"]
    cpu_ratio = summary["forward"]["cpu_s"] / summary["scoring"]["cpu_s"] if summary["scoring"]["cpu_s"] else None
    rows = [
        [name, s["items_per_s"], s["sequences_per_s"], s["tokens_per_s"], s["items_per_cpu_s"]]
        for name, s in summary.items()
    ]
    print()
    print(harness.table(rows, ["method", "items/s", "sequences/s", "tokens/s", "items/CPU-s"]))
    print(f"\nscoring ÷ forward: {ratio:.3f} (wall), {cpu_ratio:.3f} (CPU)  target >= 0.9")
    sorted_ratio = summary["forward_sorted"]["wall_s"] / summary["scoring"]["wall_s"]
    print(f"scoring ÷ forward over the same length-sorted batches: {sorted_ratio:.3f} (wall)")
    agreement = None
    if "naive" in outputs:
        agreement = max(abs(a[0] - b[0]) for a, b in zip(outputs["scoring"], outputs["naive"], strict=True))
        if "naive" in summary:
            print(f"scoring ÷ naive: {summary['naive']['wall_s'] / summary['scoring']['wall_s']:.2f}x faster")
        print(f"max |scoring - naive| log-likelihood: {agreement:.2e}")
    path = harness.write_results(
        "eval_throughput",
        {
            "machine": harness.machine_info(),
            "quiet": quiet,
            "config": {**vars(args), "device": device, "threads": threads, "model": "llama 4x256, vocab 8192"},
            "workload": {"items": len(items), "sequences": len(pairs), "tokens": tokens},
            "rounds": samples,
            "summary": summary,
            "ratio_wall": round(ratio, 4),
            "ratio_cpu": round(cpu_ratio, 4) if cpu_ratio else None,
            "ratio_wall_vs_sorted_forward": round(sorted_ratio, 4),
            "max_abs_ll_diff_vs_naive": agreement,
        },
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
