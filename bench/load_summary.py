"""The load client's results: latencies in the measured window, by kind of request and by second, statuses, and
the CPU each side used per judgment (bench/load_client.py writes them; bench/annotation_load.py reads them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import harness

if TYPE_CHECKING:
    from load_client import Record


def _window(samples: list[tuple[float, float]], lo: float, hi: float) -> list[float]:
    return [lat for start, lat in samples if lo <= start < hi]


def _stats(latencies: list[float]) -> dict:
    pct = harness.percentile
    return {
        "count": len(latencies),
        "p50_ms": _r(pct(latencies, 50)),
        "p95_ms": _r(pct(latencies, 95)),
        "p99_ms": _r(pct(latencies, 99)),
        "max_ms": _r(max(latencies) if latencies else None),
    }


def _per_second(records: list[Record], lo: float, hi: float) -> list[dict]:
    """Next + submit latencies by the second of the window they started in: where a tail comes from (a stall of
    the whole server shows as one bad second, queueing as a slow rise)."""
    seconds: list[list[float]] = [[] for _ in range(int(hi - lo))]
    for r in records:
        for samples in (r.next_lat, r.submit_lat):
            for start, lat in samples:
                if lo <= start < hi:
                    seconds[min(int(start - lo), len(seconds) - 1)].append(lat)
    pct = harness.percentile
    return [
        {"second": i, "requests": len(v), "p99_ms": _r(pct(v, 99)), "max_ms": _r(max(v, default=None))}
        for i, v in enumerate(seconds)
    ]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def summarize(cfg: dict, records: list[Record], cpu: dict) -> dict:
    lo, hi = cfg["warmup"], cfg["warmup"] + cfg["duration"]
    submits_in_window = sum(
        1 for r in records for (start, _lat) in r.submit_lat if lo <= start < hi
    )  # includes non-201 submits; errors are reported separately
    statuses: dict[str, int] = {}
    for r in records:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    requests_in_window = sum(
        len(_window(getattr(r, f"{k}_lat"), lo, hi)) for r in records for k in ("next", "submit", "replay")
    )
    out = {
        "annotators": len(records),
        "engine": cfg["engine"],
        "rate_per_annotator": cfg["rate"],
        "window_s": cfg["duration"],
        "judgments_per_s": round(submits_in_window / cfg["duration"], 1),
        "requests_per_s": round(requests_in_window / cfg["duration"], 1),
        "next": _stats([x for r in records for x in _window(r.next_lat, lo, hi)]),
        "submit": _stats([x for r in records for x in _window(r.submit_lat, lo, hi)]),
        "replay": _stats([x for r in records for x in _window(r.replay_lat, lo, hi)]),
        "per_second": _per_second(records, lo, hi),
        "statuses": statuses,
        "errors": sum(len(r.errors) for r in records),
        "error_samples": [e for r in records for e in r.errors][:10],
        "served_again": sum(r.served_again for r in records),
        "reconnects": sum(r.reconnects for r in records),
        "exhausted_annotators": sum(r.exhausted for r in records),
        "judgments_total": sum(len(r.submitted) for r in records),
        "by_project": {
            str(pid): {
                "next": _stats(
                    [
                        x
                        for a, r in zip(cfg["annotators"], records, strict=True)
                        if a["project"] == pid
                        for x in _window(r.next_lat, lo, hi)
                    ]
                ),
                "submit": _stats(
                    [
                        x
                        for a, r in zip(cfg["annotators"], records, strict=True)
                        if a["project"] == pid
                        for x in _window(r.submit_lat, lo, hi)
                    ]
                ),
            }
            for pid in sorted({a["project"] for a in cfg["annotators"]})
        },
        "served": {
            f"{a['username']}@{a['project']}": r.served for a, r in zip(cfg["annotators"], records, strict=True)
        },
        "submitted": {
            f"{a['username']}@{a['project']}": r.submitted for a, r in zip(cfg["annotators"], records, strict=True)
        },
        "cpu": cpu,
    }
    ours = sum(cpu.get(k) or 0 for k in ("client_cpu_s", "server_cpu_s", "postgres_cpu_s"))
    if ours and submits_in_window:
        # CPU the benchmark itself spent per judgment (next + submit + client), and what two cores doing nothing
        # else would sustain at that cost: an estimate that other agents' load on this shared machine cannot lower
        # as much as it lowers the measured rate (it still inflates CPU time through cache and frequency effects).
        out["cpu_ms_per_judgment"] = round(ours / submits_in_window * 1000, 2)
        out["judgments_per_s_on_2_idle_cores_est"] = round(2000 / out["cpu_ms_per_judgment"], 1)
    if cpu.get("client_cpu_s") is not None and requests_in_window:
        out["client_cpu_us_per_request"] = round(cpu["client_cpu_s"] / requests_in_window * 1e6)
        out["client_cpu_share"] = round(cpu["client_cpu_s"] / max(cpu.get("machine_cpu_s") or 0, 1e-9), 3)
    return out
