"""Export benchmark: preference rows/s and peak RSS for 100k and 1M rows, JSONL and Parquet, SQLite and PostgreSQL.

For each backend it makes a throwaway database, migrates, and builds two projects directly in SQL (prompts with K
candidate responses and K(K-1)/2 consensus pairs each; fast bulk inserts, no judgments, since export reads only the
consensus rows). Then every export runs in a fresh subprocess through the real streaming path, that is
``annotation.selectors.export.preference_batches`` into ``annotation.export_formats.stream_columns`` (what the API
sends), and reports rows/s and the process's peak RSS (VmHWM). The same exports then go once through the HTTP
endpoint of a gunicorn worker, whose peak RSS is read the same way. Targets: >= 50k rows/s; peak RSS at 1M ÷ at 100k
<= 1.2.

Usage: ``python bench/export.py --backend both`` (``--sizes 100000 1000000 --formats jsonl parquet``). Results: a
table on stdout and JSON under var/bench/. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from export_stages import AnonSampler, vmhwm_kib, vmrss_kib

HERE = Path(__file__).resolve()
STAGES = HERE.parent / "export_stages.py"  # the Django side, run in subprocesses
TARGETS = {"rows_per_s": 50_000, "rss_ratio": 1.2}


# --- HTTP ----------------------------------------------------------------------------------------------------------


def _pg_cpu(database: str | None) -> dict[int, float]:
    return {pid: harness.proc_cpu_seconds(pid) for pid in harness.postgres_pids(database)} if database else {}


def http_export(
    server: harness.Server, token: str, project: int, fmt: str, tmpdir: Path, pg_database: str | None = None
) -> dict:
    """One export through gunicorn, with the CPU of everything that served it: the worker, its PostgreSQL backend and
    this client (the rest of the machine's CPU over the same window is reported as ``others_cpu_seconds``)."""
    worker = max(server.pids()[1:])  # the single worker
    before = vmrss_kib(worker)
    sampler = AnonSampler(worker)
    sampler.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    pg_before, worker_cpu, client_cpu = _pg_cpu(pg_database), harness.proc_cpu_seconds(worker), time.process_time()
    machine_cpu = harness.machine_cpu_seconds()
    t = time.perf_counter()
    conn.request(
        "GET",
        f"/api/v1/projects/{project}/export/preferences/?format={fmt}",
        headers={"Authorization": f"Token {token}"},
    )
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"export answered {resp.status}: {resp.read()[:500]!r}")
    rows = size = 0
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}", dir=tmpdir) as fh:
        while chunk := resp.read(1 << 20):
            size += len(chunk)
            if fmt == "jsonl":
                rows += chunk.count(b"\n")
            else:
                fh.write(chunk)
        elapsed = time.perf_counter() - t
        machine_cpu = harness.machine_cpu_seconds() - machine_cpu
        worker_cpu = harness.proc_cpu_seconds(worker) - worker_cpu
        client_cpu = time.process_time() - client_cpu
        db_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in _pg_cpu(pg_database).items())
        peak_anon = sampler.finish()
        if fmt == "parquet":
            fh.flush()
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(fh.name).metadata.num_rows
    conn.close()
    ours = worker_cpu + db_cpu + client_cpu
    return {
        "rows": rows,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "cpu_seconds": round(worker_cpu, 2),
        "db_server_cpu_seconds": round(db_cpu, 2),
        "client_cpu_seconds": round(client_cpu, 2),
        "rows_per_cpu_s": round(rows / ours) if ours else None,
        "others_cpu_seconds": round(max(machine_cpu - ours, 0.0), 2),
        "worker_peak_rss_mib": round(vmhwm_kib(worker) / 1024, 1),
        "worker_peak_anon_rss_mib": peak_anon,
        "worker_rss_before_mib": round(before / 1024, 1),
        "chunked": resp.getheader("Transfer-Encoding"),
    }


# --- orchestration -------------------------------------------------------------------------------------------------


def bench_backend(name: str, args) -> dict:
    with harness.throwaway_backend(name) as backend:
        print(f"[{name}] building {', '.join(map(str, args.sizes))} preference rows ...", file=sys.stderr)
        setup = harness.run_stage(STAGES, "setup", backend, {"sizes": args.sizes})
        result: dict = {"backend": name, "setup": setup["timings"], "direct": {}, "http": {}}
        from tqdm import tqdm

        jobs = [(size, fmt) for size in args.sizes for fmt in args.formats]
        for size, fmt in tqdm(jobs, desc=f"{name} export", unit="export", file=sys.stderr, leave=False):
            payload = {"project": setup["projects"][str(size)], "format": fmt, "tmpdir": str(backend.workdir)}
            r = harness.run_stage(STAGES, "export", backend, payload)
            if r["rows"] != size or r["file_rows"] != size:
                raise RuntimeError(f"{name} {fmt} export of {size} rows gave {r['rows']} / {r['file_rows']}")
            result["direct"][f"{size}/{fmt}"] = r
        if args.http:
            for size, fmt in tqdm(jobs, desc=f"{name} HTTP", unit="export", file=sys.stderr, leave=False):
                with harness.gunicorn(backend, workers=1, threads=2) as server:
                    r = http_export(
                        server, setup["token"], setup["projects"][str(size)], fmt, backend.workdir, backend.pg_database
                    )
                if r["rows"] != size:
                    raise RuntimeError(f"{name} HTTP {fmt} export of {size} rows gave {r['rows']}")
                result["http"][f"{size}/{fmt}"] = r
        return result


def ratios(res: dict, key: str, field: str, sizes: list[int], formats: list[str]) -> dict:
    small, large = min(sizes), max(sizes)
    out = {}
    for fmt in formats:
        a, b = res[key].get(f"{small}/{fmt}"), res[key].get(f"{large}/{fmt}")
        if a and b:
            out[fmt] = round(b[field] / a[field], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", choices=["jsonl", "parquet"], default=["jsonl", "parquet"])
    parser.add_argument("--no-http", dest="http", action="store_false", help="skip the exports through gunicorn")
    args = parser.parse_args()

    started = time.time()
    info = harness.machine_info()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [bench_backend(b, args) for b in backends]
    rows, verdict = [], {}
    fields = {
        "direct": ("peak_rss_mib", "peak_anon_rss_mib"),
        "http": ("worker_peak_rss_mib", "worker_peak_anon_rss_mib"),
    }
    for res in results:
        for key, (hwm, anon) in fields.items():
            for label, r in res[key].items():
                rows.append(
                    [
                        f"{res['backend']} {key}",
                        label,
                        r["rows_per_s"],
                        r.get("rows_per_cpu_s", "-"),
                        r["seconds"],
                        r.get("others_cpu_seconds", "-"),
                        r[hwm],
                        r[anon],
                        round(r["bytes"] / 2**20, 1),
                    ]
                )
            res[f"{key}_rss_ratio"] = ratios(res, key, hwm, args.sizes, args.formats)
            res[f"{key}_anon_rss_ratio"] = ratios(res, key, anon, args.sizes, args.formats)
        if res["backend"] == "sqlite":
            res["direct_anon_rss_without_sqlite_heap_ratio"] = ratios(
                res, "direct", "peak_anon_rss_without_sqlite_heap_mib", args.sizes, args.formats
            )
        slowest = min(r["rows_per_s"] for r in res["direct"].values())
        verdict[res["backend"]] = {
            "rows_per_s_at_least_50k": slowest >= TARGETS["rows_per_s"],
            "rows_per_cpu_s_at_least_50k (not the target; what idle cores would do)": min(
                r["rows_per_cpu_s"] for r in res["direct"].values()
            )
            >= TARGETS["rows_per_s"],
            "rss_ratio_at_most_1_2": all(v <= TARGETS["rss_ratio"] for v in res["direct_rss_ratio"].values()),
            "anon_rss_ratio_at_most_1_2": all(v <= TARGETS["rss_ratio"] for v in res["direct_anon_rss_ratio"].values()),
        }
    print(
        harness.table(
            rows,
            [
                "run",
                "rows/format",
                "rows/s",
                "rows/CPU-s",
                "seconds",
                "others' CPU-s",
                "peak RSS MiB",
                "peak anon MiB",
                "output MiB",
            ],
        )
    )
    for res in results:
        if "direct_anon_rss_without_sqlite_heap_ratio" in res:
            print(
                f"sqlite direct: anonymous RSS less SQLite's own heap (page cache), {max(args.sizes)} ÷ "
                f"{min(args.sizes)}: {res['direct_anon_rss_without_sqlite_heap_ratio']}"
            )
        for key in fields:
            print(
                f"{res['backend']} {key}: peak RSS {max(args.sizes)} ÷ {min(args.sizes)}: {res[f'{key}_rss_ratio']}"
                f"; anonymous {res[f'{key}_anon_rss_ratio']}"
            )
    print("targets:", json.dumps(verdict))
    path = harness.write_results(
        "export",
        {
            "args": vars(args),
            "machine": info,
            "elapsed_s": round(time.time() - started, 1),
            "targets": TARGETS,
            "verdict": verdict,
            "results": results,
        },
    )
    print(f"results: {path.relative_to(harness.REPO)}")


if __name__ == "__main__":
    main()
