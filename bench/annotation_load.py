"""Annotation load benchmark: N scripted annotators against gunicorn, on SQLite and on PostgreSQL.

For each backend it makes a throwaway database (a SQLite file in a temp dir; a PostgreSQL database that is dropped
afterwards), migrates, imports the projects through the real JSONL import service, gives every annotator an account
with its own DRF token, starts gunicorn, and then measures:

1. load: N annotators (separate accounts, one keep-alive connection each) loop GET next task -> POST a ranking with
   an Idempotency-Key, paced at ``--rate`` judgments/s each (0 = as fast as the server answers); a small share of
   submits is retried with the same key. Reports judgments/s, p50/p95/p99 of next and submit, errors, and the CPU
   used by the client, gunicorn, PostgreSQL and the whole machine;
2. saturation (``--saturate``): the same without pacing, for the ceiling;
3. ratio: next-task p50 in a project of ``--ratio-large`` tasks ÷ one of ``--ratio-small`` tasks, both served
   at the same time, one annotator each, so the figure is the query cost and not queueing; plus the same ratio
   measured in-process on the service (no HTTP) and the SQL queries one next / one submit request makes;
4. verification from the database: no task holds more live leases or judgments than its overlap, slot counters match
   the rows, nobody was served a task twice, every 201 is exactly one judgment row, one consensus pair per prompt.

Usage: ``python bench/annotation_load.py --backend both --annotators 50 --duration 15``. Results: a table on
stdout and JSON under var/bench/. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

HERE = Path(__file__).resolve()
CLIENT = HERE.parent / "load_client.py"
STAGES = HERE.parent / "annotation_load_stages.py"  # the Django side, run in subprocesses
TARGETS = {"p99_ms": 100.0, "judgments_per_s": 200.0, "double_served": 0, "ratio": 1.5}


# --- orchestration -------------------------------------------------------------------------------------------------


def run_client(
    backend: harness.Backend,
    server: harness.Server,
    annotators: list[dict],
    args,
    *,
    label: str,
    rate: float,
    duration: float,
    warmup: float,
    engine: str | None = None,
) -> dict:
    cfg = {
        "host": "127.0.0.1",
        "port": server.port,
        "annotators": annotators,
        "rate": rate,
        "duration": duration,
        "warmup": warmup,
        "engine": engine or args.engine,
        "replay_share": args.replay_share,
        "max_judgments_each": 10**9,
        "label": f"{backend.name} {label}",
        "server_pids": server.pids(),
        "pg_database": backend.pg_database,
    }
    quiet = harness.wait_for_quiet(args.wait_quiet) if args.wait_quiet else None
    wakeup = harness.wakeup_roundtrip_us()  # the machine's current cost of a cross-process wake-up
    cfg_path = backend.workdir / f"client-{label}.json"
    out_path = backend.workdir / f"client-{label}.out.json"
    cfg_path.write_text(json.dumps(cfg))
    subprocess.run([harness.PYTHON, str(CLIENT), str(cfg_path), str(out_path)], check=True, env=backend.env)
    result = json.loads(out_path.read_text())
    result["quiet"] = quiet
    result["wakeup_roundtrip_us"] = wakeup
    return result


def verify(backend: harness.Backend, project: int, overlap: int, result: dict, ledger: dict) -> dict:
    """Check the database after a run; ``ledger`` accumulates what clients saw over every run on this project."""
    for user, served in result.pop("served").items():
        ledger.setdefault("served", {}).setdefault(user, []).extend(served)
    result.pop("submitted")
    ledger["served_again"] = ledger.get("served_again", 0) + result["served_again"]
    ledger["acknowledged"] = ledger.get("acknowledged", 0) + result["statuses"].get("submit 201", 0)
    payload = {"project": project, "overlap": overlap, **ledger}
    return harness.run_stage(STAGES, "verify", backend, payload)


def bench_backend(name: str, args) -> dict:
    redis = args.redis_url if name == "postgres" and args.redis_url else None
    with harness.throwaway_backend(name, redis_url=redis) as backend:
        print(
            f"[{name}] setting up: migrate, import {args.tasks} + "
            f"{args.ratio_small + args.ratio_large if args.ratio else 0} tasks ...",
            file=sys.stderr,
        )
        setup = harness.run_stage(
            STAGES,
            "setup",
            backend,
            {
                "annotators": args.annotators,
                "tasks": args.tasks,
                "overlap": args.overlap,
                "ratio": args.ratio,
                "ratio_small": args.ratio_small,
                "ratio_large": args.ratio_large,
                "probe_users": 2,
            },
        )
        result: dict = {
            "backend": name,
            "redis": bool(redis),
            "setup": setup["timings"],
            "gunicorn": {"workers": args.workers, "threads": args.threads},
        }
        load_project = setup["projects"]["load"]
        annotators = [{**u, "project": load_project} for u in setup["users"]]
        ledger: dict = {}
        with harness.gunicorn(backend, workers=args.workers, threads=args.threads) as server:
            if args.compare_engines:
                result["engines"] = {}
                for engine in ("raw", "httpx", "threads"):
                    r = run_client(
                        backend,
                        server,
                        annotators,
                        args,
                        label=f"engine-{engine}",
                        rate=args.rate,
                        duration=min(args.duration, 10),
                        warmup=2,
                        engine=engine,
                    )
                    r["verify"] = verify(backend, load_project, args.overlap, r, ledger)
                    result["engines"][engine] = r
            r = run_client(
                backend,
                server,
                annotators,
                args,
                label="load",
                rate=args.rate,
                duration=args.duration,
                warmup=args.warmup,
            )
            r["verify"] = verify(backend, load_project, args.overlap, r, ledger)
            result["load"] = r
            if args.saturate:
                r = run_client(
                    backend,
                    server,
                    annotators,
                    args,
                    label="saturate",
                    rate=0,
                    duration=args.duration,
                    warmup=args.warmup,
                )
                r["verify"] = verify(backend, load_project, args.overlap, r, ledger)
                result["saturate"] = r
            if args.ratio:
                small, large = setup["projects"]["small"], setup["projects"]["large"]
                probe = setup["probe_users"][0]
                r = run_client(
                    backend,
                    server,
                    [{**probe, "project": small}, {**probe, "project": large}],
                    args,
                    label="ratio",
                    rate=0,
                    duration=args.ratio_duration,
                    warmup=1,
                )
                r.pop("served"), r.pop("submitted")
                by = r["by_project"]
                r["small_next_p50_ms"] = by[str(small)]["next"]["p50_ms"]
                r["large_next_p50_ms"] = by[str(large)]["next"]["p50_ms"]
                r["ratio_p50"] = round(r["large_next_p50_ms"] / r["small_next_p50_ms"], 3)
                result["ratio"] = r
        if args.ratio:
            result["ratio_service"] = harness.run_stage(
                STAGES,
                "probe",
                backend,
                {
                    "user": setup["probe_users"][1]["username"],
                    "token": setup["probe_users"][1]["token"],
                    "projects": {"small": setup["projects"]["small"], "large": setup["projects"]["large"]},
                    "iterations": args.probe_iterations,
                },
            )
        return result


def _fmt(x, unit: str = "") -> str:
    return "-" if x is None else f"{x}{unit}"


def report(results: list[dict]) -> str:
    rows = []
    for res in results:
        for label in ("load", "saturate"):
            r = res.get(label)
            if not r:
                continue
            cpu = r["cpu"]
            rows.append(
                [
                    f"{res['backend']} {label}",
                    r["annotators"],
                    r["judgments_per_s"],
                    f"{r['next']['p50_ms']}/{r['next']['p95_ms']}/{r['next']['p99_ms']}",
                    f"{r['submit']['p50_ms']}/{r['submit']['p95_ms']}/{r['submit']['p99_ms']}",
                    r["errors"],
                    r["verify"]["double_served"],
                    "yes" if r["verify"]["ok"] else "NO",
                    f"{cpu.get('client_cpu_s')}/{cpu.get('server_cpu_s')}/{cpu.get('postgres_cpu_s', '-')}/"
                    f"{cpu.get('others_cpu_s')}",
                    r.get("cpu_ms_per_judgment"),
                    r.get("judgments_per_s_on_2_idle_cores_est"),
                    r.get("wakeup_roundtrip_us"),
                ]
            )
    out = [
        harness.table(
            rows,
            [
                "run",
                "N",
                "judg/s",
                "next p50/95/99 ms",
                "submit p50/95/99 ms",
                "errors",
                "double-served",
                "verified",
                "cpu s client/gunicorn/pg/others",
                "cpu ms/judgment",
                "est. judg/s on 2 idle cores",
                "wake-up µs",
            ],
        )
    ]
    ratio_rows = []
    for res in results:
        if "ratio" in res:
            r, s = res["ratio"], res["ratio_service"]
            ratio_rows.append(
                [
                    res["backend"],
                    r["small_next_p50_ms"],
                    r["large_next_p50_ms"],
                    r["ratio_p50"],
                    s["small_p50_ms"],
                    s["large_p50_ms"],
                    s["ratio_p50"],
                    f"{s['queries_per_request']['next']}/{s['queries_per_request']['submit']}",
                ]
            )
    if ratio_rows:
        out.append("")
        out.append(
            harness.table(
                ratio_rows,
                ["backend", "HTTP next p50 1k", "100k", "ratio", "service p50 1k", "100k", "ratio", "SQL next/submit"],
            )
        )
    engines = [(res["backend"], e, r) for res in results for e, r in res.get("engines", {}).items()]
    if engines:
        out.append("")
        out.append(
            harness.table(
                [
                    [
                        b,
                        e,
                        r["judgments_per_s"],
                        r.get("client_cpu_us_per_request"),
                        r.get("client_cpu_share"),
                        r["next"]["p99_ms"],
                        r["submit"]["p99_ms"],
                    ]
                    for b, e, r in engines
                ],
                [
                    "backend",
                    "engine",
                    "judg/s",
                    "client CPU us/request",
                    "client share of machine CPU",
                    "next p99",
                    "submit p99",
                ],
            )
        )
    return "\n".join(out)


def check_targets(results: list[dict]) -> dict:
    verdict = {}
    for res in results:
        r = res["load"]
        p99 = max(r["next"]["p99_ms"] or 1e9, r["submit"]["p99_ms"] or 1e9)
        verdict[res["backend"]] = {
            "p99_under_100ms": p99 < TARGETS["p99_ms"],
            "judgments_per_s_at_least_200": r["judgments_per_s"] >= TARGETS["judgments_per_s"],
            "zero_double_served": r["verify"]["double_served"] == 0 and r["verify"]["ok"],
        }
        if "ratio" in res:
            verdict[res["backend"]]["ratio_at_most_1_5"] = res["ratio"]["ratio_p50"] <= TARGETS["ratio"]
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--duration", type=float, default=15, help="measurement window, seconds")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before the window opens")
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks in the load project")
    parser.add_argument("--overlap", type=int, default=3, help="judgments wanted per task in the load project")
    parser.add_argument(
        "--rate",
        type=float,
        default=4.5,
        help="judgments/s each annotator aims at (0: no pacing, as fast as answers come)",
    )
    parser.add_argument("--saturate", action="store_true", help="also run unpaced, for the throughput ceiling")
    parser.add_argument("--engine", choices=["raw", "httpx", "threads"], default="raw", help="client HTTP engine")
    parser.add_argument("--compare-engines", action="store_true", help="measure every client engine's CPU cost")
    parser.add_argument(
        "--replay-share", type=float, default=0.02, help="share of submits retried with the same Idempotency-Key"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn gthread worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gunicorn.conf.py default)")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="REDIS_URL for the PostgreSQL run (cache for throttling), '' for none",
    )
    parser.add_argument("--no-ratio", dest="ratio", action="store_false", help="skip the 100k ÷ 1k next-task ratio")
    parser.add_argument("--ratio-small", type=int, default=1_000)
    parser.add_argument("--ratio-large", type=int, default=100_000)
    parser.add_argument("--ratio-duration", type=float, default=8)
    parser.add_argument("--probe-iterations", type=int, default=400)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each measurement wait up to SECONDS for the rest of the machine to go idle",
    )
    args = parser.parse_args()

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    started = time.time()
    info = harness.machine_info()
    results = [bench_backend(b, args) for b in backends]
    verdict = check_targets(results)
    print(report(results))
    print("\ntargets:", json.dumps(verdict))
    path = harness.write_results(
        "annotation_load",
        {
            "args": vars(args),
            "machine": info,
            "started": started,
            "elapsed_s": round(time.time() - started, 1),
            "targets": TARGETS,
            "verdict": verdict,
            "results": results,
        },
    )
    print(f"results: {path.relative_to(harness.REPO)}")


if __name__ == "__main__":
    main()
