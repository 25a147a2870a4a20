"""Token-shard packing throughput: tokens/s of ``train_tokenizer``'s encode stage with 1 vs 2 worker processes.

It builds a pydocs-like corpus (docstrings of the installed Python packages and the standard library, read with
``ast``, nothing imported) as a prepared dataset of parquet shards, trains a byte-level BPE tokenizer on it once,
then encodes every shard with the runner's own code (``WorkerPool`` + ``encode_part``) in three layouts:

- 1 process x 1 thread (the single-core baseline),
- 1 process x 2 Rayon threads (what ``workers: 1`` does on a 2-core machine: ``encode_batch`` parallel in Rust),
- 2 processes x 1 thread (the default on 2 cores: one shard per process).

Wall time includes starting the worker processes, as a job pays it. Each layout runs ``--repeat`` times,
interleaved with the others; the best run counts (the machine is shared, so noise only ever slows a run down) and
the CPU other processes used meanwhile is recorded next to it. Because a shared machine rarely lets both cores go
to one benchmark, it also reports tokens per CPU-second of the workers (unaffected by load) and the 2-process
speedup that efficiency implies on two free cores. It also checks that every layout wrote
byte-identical parts.

Usage: ``python bench/tokenize_throughput.py [--mb 8] [--repeat 3] [--dataset PREPARED_DIR]``.
Results: a table on stdout and JSON under var/bench/. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import resource
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

harness.ensure_repo_on_path()

LAYOUTS = (("1 process x 1 thread", 1, 1), ("1 process x 2 threads", 1, 2), ("2 processes x 1 thread", 2, 1))
TRAIN_CONFIG = {
    "algorithm": "bpe",
    "vocab_size": 8192,
    "min_frequency": 2,
    "pad_token": "<|pad|>",
    "bos_token": "<|bos|>",
    "eos_token": "<|eos|>",
    "unk_token": "<|unk|>",
    "role_tokens": {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>"},
    "additional_special_tokens": [],
    "normalization": "none",
    "lowercase": False,
    "strip_accents": False,
    "add_prefix_space": False,
    "max_token_length": 16,
    "add_bos": False,
    "chat_template": None,
    "model_max_length": 2048,
    "max_train_chars": 4_000_000,
}


def docstrings(max_bytes: int) -> list[str]:
    """Docstrings of every module, class and function in site-packages and the standard library, in path order."""
    roots = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"])]
    out, seen, size = [], set(), 0
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    doc = ast.get_docstring(node)
                    if doc and len(doc) > 40 and doc not in seen:
                        seen.add(doc)
                        out.append(doc)
                        size += len(doc.encode())
                        if size >= max_bytes:
                            return out
    return out


def write_dataset(folder: Path, texts: list[str], shards: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    per_shard = -(-len(texts) // shards)
    names = []
    for i in range(shards):
        chunk = texts[i * per_shard : (i + 1) * per_shard]
        table = pa.table(
            {
                "id": [hashlib.sha256(t.encode()).hexdigest()[:16] for t in chunk],
                "text": chunk,
                "source": ["pydocs"] * len(chunk),
                "split": ["train"] * len(chunk),
                "difficulty": [float(len(t)) for t in chunk],
                "flags": pa.array([[] for _ in chunk], pa.list_(pa.string())),
                "n_chars": [len(t) for t in chunk],
            }
        )
        names.append(f"train-{i:05d}.parquet")
        pq.write_table(table, folder / names[-1])
    manifest = {
        "format": "plumbline.dataset/1",
        "splits": {"train": {"shards": names, "documents": len(texts), "bytes": sum(len(t.encode()) for t in texts)}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def encode_all(dataset, tokenizer_json: Path, trained: dict, parts: Path, processes: int, threads: int) -> dict:
    from training.tokenization.packing import token_dtype
    from training.tokenization.processes import WorkerPool
    from training.tokenization.sharding import encode_part

    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    shards = dataset.splits["train"].shards
    tasks = [
        {
            "tokenizer_json": str(tokenizer_json),
            "parts": str(parts),
            "dtype": str(token_dtype(trained["vocab_size"])),
            "vocab_size": trained["vocab_size"],
            "eos_id": trained["eos_id"],
            "bos_id": trained["bos_id"],
            "unk_id": trained["unk_id"],
            "specials_per_doc": 0,
            "batch_size": 1024,
            "name": f"train-{i:05d}",
            "shard": str(shard),
            "with_counts": False,
        }
        for i, shard in enumerate(shards)
    ]
    meter = harness.CpuMeter({})
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with WorkerPool(processes, threads_per_process=threads) as pool:
        stats = list(pool.map(encode_part, tasks, lambda: None, interval=0.05))
    wall = time.perf_counter() - started
    cpu = meter.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, reaped when the pool closed
    own_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    digest = hashlib.sha256()
    for path in sorted(parts.glob("*.bin")):
        digest.update(path.read_bytes())
    tokens = sum(s["tokens"] for s in stats)
    return {
        "wall_s": round(wall, 3),
        "tokens": tokens,
        "bytes": sum(s["bytes"] for s in stats),
        "tokens_per_s": round(tokens / wall),
        "workers_cpu_s": round(own_cpu, 2),
        "tokens_per_cpu_s": round(tokens / own_cpu) if own_cpu else None,
        "others_cpu_s": round(max(0.0, cpu["machine_cpu_s"] - own_cpu), 2),
        "sha256": digest.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=8.0, help="corpus size in MB of text (built corpus only)")
    parser.add_argument("--shards", type=int, default=16, help="parquet shards of the built corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dataset", type=Path, help="a prepared dataset to encode instead of the built corpus")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()

    from training.tokenization.dataset import PreparedDataset
    from training.tokenization.trainers import train_task

    work = Path(tempfile.mkdtemp(prefix="plumbline-bench-tokenize-"))
    try:
        if args.dataset:
            data = args.dataset
        else:
            texts = docstrings(int(args.mb * 1e6))
            data = write_dataset(work / "dataset", texts, args.shards)
        dataset = PreparedDataset.open(data)
        started = time.perf_counter()
        trained = train_task(
            {
                "config": TRAIN_CONFIG,
                "dataset": str(data),
                "output": str(work / "tokenizer"),
                "report_split": "train",
                "samples": 0,
                "sample_chars": 0,
            }
        )
        train_s = time.perf_counter() - started
        quiet = harness.wait_for_quiet(args.quiet_wait)
        # layouts interleaved (A B C A B C ...) so that load from other processes hits each of them alike
        runs: dict[str, list[dict]] = {label: [] for label, _, _ in LAYOUTS}
        for _ in range(args.repeat):
            for label, processes, threads in LAYOUTS:
                tokenizer_json = work / "tokenizer" / "tokenizer.json"
                runs[label].append(encode_all(dataset, tokenizer_json, trained, work / "parts", processes, threads))
        results = {}
        for label, processes, threads in LAYOUTS:
            results[label] = {
                "processes": processes,
                "threads": threads,
                "best": min(runs[label], key=lambda r: r["wall_s"]),
                "median_tokens_per_s": round(statistics.median(r["tokens_per_s"] for r in runs[label])),
                "runs": runs[label],
            }
        base = results[LAYOUTS[0][0]]["best"]["tokens_per_s"]
        rayon = results[LAYOUTS[1][0]]["best"]["tokens_per_s"]
        two = results[LAYOUTS[2][0]]["best"]["tokens_per_s"]
        identical = len({r["best"]["sha256"] for r in results.values()}) == 1
        # CPU efficiency does not depend on how busy the machine was: if 2 processes spend no more CPU per token
        # than 1, two free cores run them (nearly) twice as fast
        efficiency = {label: max(r["tokens_per_cpu_s"] or 0 for r in runs[label]) for label, _, _ in LAYOUTS}
        parallel_efficiency = efficiency[LAYOUTS[2][0]] / efficiency[LAYOUTS[0][0]]
        summary = {
            "corpus_mb": round(results[LAYOUTS[0][0]]["best"]["bytes"] / 1e6, 2),
            "documents": dataset.documents("train"),
            "shards": len(dataset.splits["train"].shards),
            "vocab_size": trained["vocab_size"],
            "train_s": round(train_s, 2),
            "speedup_2_processes_vs_1": round(two / base, 2),
            "speedup_2_processes_vs_1_process_2_threads": round(two / rayon, 2),
            "tokens_per_cpu_s": efficiency,
            "parallel_efficiency_2_processes": round(parallel_efficiency, 2),
            "projected_speedup_2_free_cores": round(2 * parallel_efficiency, 2),
            "identical_output_across_layouts": identical,
        }
        rows = [
            [
                label,
                r["best"]["wall_s"],
                f"{r['best']['tokens_per_s']:,}",
                f"{r['median_tokens_per_s']:,}",
                round(r["best"]["bytes"] / 1e6 / r["best"]["wall_s"], 2),
                f"{efficiency[label]:,}",
                r["best"]["others_cpu_s"],
            ]
            for label, r in results.items()
        ]
        print(
            harness.table(
                rows,
                ["layout", "wall s", "tokens/s (best)", "tokens/s (median)", "MB/s", "tokens/cpu-s", "others cpu s"],
            )
        )
        print(json.dumps(summary, indent=2))
        path = harness.write_results(
            "tokenize_throughput",
            {"machine": harness.machine_info(), "quiet": quiet, "summary": summary, "layouts": results},
        )
        print(f"results: {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
