"""Corpus preparation throughput on the pydocs corpus, in MB per second per core, with and without near-dup.

Three measurements, each the real ``prepare_corpus`` runner with a tqdm bar:

1. extract: the pydocs source alone (docstrings and docs of installed packages), written to a JSONL file;
2. pipeline: the runner on that JSONL file with every default step (normalize, length, language, Gopher quality
   and repetition, PII, harmful, exact dedup, near-dup), and again with near-dup off;
3. end to end: the runner on ``{"type": "pydocs"}`` itself (extraction included).

Throughput is input megabytes (the funnel's bytes read) per second of wall time, and per core: divided by the
workers the run used, and also by the CPU seconds the run consumed (main process plus workers), which is the
figure that does not depend on how busy the machine was.

Usage: ``python bench/prepare_corpus.py --mb 20 --workers 2``. Results: a table on stdout and JSON under var/bench/.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

harness.ensure_repo_on_path()

TARGET_MB_S_PER_CORE = 5.0


def _cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the worker pool, once shut down)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def extract(mb: float, out: Path) -> dict:
    from training.corpus.config import SourceConfig
    from training.corpus.executor import make_executor
    from training.corpus.sources import iter_documents

    def noop() -> None:
        pass

    executor = make_executor(1, noop, ())
    started, cpu = time.perf_counter(), _cpu_seconds()
    documents = size = 0
    with out.open("w", encoding="utf-8") as fh:
        for doc in iter_documents([SourceConfig(type="pydocs", max_bytes=int(mb * 1e6))], executor):
            fh.write(json.dumps({"id": doc.id, "text": doc.text}) + "\n")
            documents += 1
            size += len(doc.text.encode("utf-8"))
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    return {"documents": documents, "mb": round(size / 1e6, 2), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "mb_s_per_core_cpu": round(size / 1e6 / cpu, 2)}  # fmt: skip


def run_once(name: str, config_data: dict, workers: int, folder: Path) -> dict:
    from training.configs import from_dict
    from training.runners.cli import LocalContext
    from training.runners.prepare_corpus import PrepareCorpusConfig, run

    config = from_dict(PrepareCorpusConfig, {**config_data, "workers": workers})
    ctx = LocalContext(folder, show_progress=True)
    started, cpu, machine = time.perf_counter(), _cpu_seconds(), harness.machine_cpu_seconds()
    try:
        result = run(config, ctx)
    finally:
        ctx.close()
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    others = max(0.0, harness.machine_cpu_seconds() - machine - cpu)
    funnel = ctx.reports["funnel"]
    mb_in = funnel[0]["bytes_in"] / 1e6
    return {
        "run": name,
        "workers": workers,
        "mb_in": round(mb_in, 2),
        "documents_in": funnel[0]["documents_in"],
        "documents_out": result.summary["documents"],
        "mb_out": round(result.summary["bytes"] / 1e6, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "mb_s": round(mb_in / wall, 2),
        "mb_s_per_core_wall": round(mb_in / wall / workers, 2),
        "mb_s_per_core_cpu": round(mb_in / cpu, 2),
        "others_cpu_s": round(others, 1),  # what the rest of the machine burned meanwhile (other agents' work)
        "sha256": result.summary["sha256"],
        "funnel": [{k: r[k] for k in ("step", "documents_out", "bytes_out")} for r in funnel],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes of pydocs text to prepare")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--skip-end-to-end", action="store_true", help="only the extract and pipeline runs")
    parser.add_argument("--wait-quiet", type=float, default=60.0, help="seconds to wait for other load to settle")
    args = parser.parse_args()

    info = harness.machine_info()
    info["quiet_wait"] = harness.wait_for_quiet(args.wait_quiet)
    results: dict = {"machine": info, "mb": args.mb, "workers": args.workers, "runs": []}
    with tempfile.TemporaryDirectory(prefix="plumbline-bench-corpus-") as tmp:
        root = Path(tmp)
        corpus = root / "pydocs.jsonl"
        print(f"extracting {args.mb:g} MB of pydocs ...", flush=True)
        results["extract"] = extract(args.mb, corpus)
        files = {"sources": [{"type": "files", "path": str(corpus), "id_field": "id"}]}
        plans = [
            ("pipeline, all steps", files),
            ("pipeline, no near-dup", {**files, "near_dup": {"enabled": False}}),
        ]
        if not args.skip_end_to_end:
            plans.append(("end to end from pydocs", {"sources": [{"type": "pydocs", "max_bytes": int(args.mb * 1e6)}]}))
        for index, (name, data) in enumerate(plans):
            print(f"\n{name}:", flush=True)
            results["runs"].append(run_once(name, data, args.workers, root / f"run-{index}"))
    with open("/proc/loadavg") as fh:
        info["loadavg_at_end"] = fh.read().split()[:3]

    ex = results["extract"]
    print(f"\nmachine: {info.get('cpu', '?')}, {info['cores']} cores, load {info['loadavg_at_start']} -> "
          f"{info['loadavg_at_end']}")  # fmt: skip
    print(
        f"extract: {ex['mb']} MB, {ex['documents']} documents in {ex['wall_s']} s ({ex['mb_s_per_core_cpu']} MB/s/core)"
    )
    columns = [("MB in", 7), ("docs in", 8), ("docs out", 8), ("wall s", 7), ("MB/s", 6), ("/core", 6), ("/CPU-s", 7),
               ("others", 7)]  # fmt: skip
    print(f"{'run':28s} " + " ".join(f"{name:>{width}s}" for name, width in columns))
    for r in results["runs"]:
        print(f"{r['run']:28s} {r['mb_in']:7.2f} {r['documents_in']:8d} {r['documents_out']:8d} {r['wall_s']:7.2f} "
              f"{r['mb_s']:6.2f} {r['mb_s_per_core_wall']:6.2f} {r['mb_s_per_core_cpu']:7.2f} "
              f"{r['others_cpu_s']:7.1f}")  # fmt: skip
    best = max(r["mb_s_per_core_cpu"] for r in results["runs"][:2])
    print(f"target >= {TARGET_MB_S_PER_CORE} MB/s/core: {'met' if best >= TARGET_MB_S_PER_CORE else 'NOT met'}")
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = harness.RESULTS_DIR / "prepare_corpus.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
