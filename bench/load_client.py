"""The load generator: scripted annotators, each its own account, looping next task -> submit a ranking.

It runs in its own process and shares the machine's cores with the server, so it has to be cheap. Three HTTP
engines do the same work; ``--engine`` picks one and the client reports its own CPU seconds per request, which is
how the default was chosen (see docs/benchmarks.md):

- ``raw``: asyncio streams speaking HTTP/1.1 keep-alive by hand (one connection per annotator);
- ``httpx``: one ``httpx.AsyncClient`` per annotator;
- ``threads``: one thread per annotator with ``http.client`` (the GIL makes 50 threads costly).

A small share of submits is replayed with the same Idempotency-Key (as a client retrying after a lost response
would) to check that a retry never counts twice. Input and output are JSON files; nothing here imports Django.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import resource
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from load_summary import summarize


@dataclass
class Record:
    """What one annotator saw: request timings (start offset, latency) by kind, statuses, tasks served."""

    next_lat: list[tuple[float, float]] = field(default_factory=list)
    submit_lat: list[tuple[float, float]] = field(default_factory=list)
    replay_lat: list[tuple[float, float]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    served: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    served_again: int = 0  # served a task this annotator had already submitted: a double-serve
    reconnects: int = 0
    exhausted: bool = False

    def count(self, kind: str, status: int) -> None:
        key = f"{kind} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


# --- engines -------------------------------------------------------------------------------------------------------


class RawConnection:
    """HTTP/1.1 over one keep-alive connection; just enough protocol for JSON requests to gunicorn."""

    def __init__(self, host: str, port: int, token: str):
        self.host, self.port = host, port
        self.prefix = f"Host: {host}:{port}\r\nAuthorization: Token {token}\r\nAccept: application/json\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def request(self, method: str, path: str, body: bytes | None = None, key: str | None = None):
        # A connection the server closed while idle shows up as an empty read: reconnect and send once more.
        # That is safe for GET, and for POST because every submit carries an Idempotency-Key.
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                self.reconnects += attempt
            head = f"{method} {path} HTTP/1.1\r\n{self.prefix}"
            if key:
                head += f"Idempotency-Key: {key}\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            self.writer.write(head.encode() + b"\r\n" + (body or b""))
            try:
                return await self._read()
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _read(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await self.reader.readexactly(size + 2)
                if not size:
                    break
                parts.append(data[:-2])
            body = b"".join(parts)
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class HttpxConnection:
    def __init__(self, host: str, port: int, token: str):
        import httpx

        self.client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            timeout=60,
        )
        self.reconnects = 0

    async def request(self, method: str, path: str, body: bytes | None = None, key: str | None = None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key:
            headers["Idempotency-Key"] = key
        r = await self.client.request(method, path, content=body, headers=headers)
        return r.status_code, r.content

    def close(self) -> None:
        pass


class ThreadConnection:
    def __init__(self, host: str, port: int, token: str):
        self.host, self.port = host, port
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.reconnects = 0

    def request(self, method: str, path: str, body: bytes | None = None, key: str | None = None):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# --- the scripted annotator ----------------------------------------------------------------------------------------


class Script:
    """One annotator's loop, written once as a generator of requests so the sync and async engines share it.

    It yields ``(kind, method, path, body, key)`` and receives ``(status, body)``; pacing sleeps are yielded as
    ``("sleep", seconds)``.
    """

    def __init__(self, cfg: dict, annotator: dict, record: Record, t0: float, rng: random.Random):
        self.cfg, self.a, self.record, self.t0, self.rng = cfg, annotator, record, t0, rng
        self.next_path = f"/api/v1/projects/{annotator['project']}/tasks/next/?kind=comparison"

    def run(self):
        cfg, record = self.cfg, self.record
        period = 1.0 / cfg["rate"] if cfg["rate"] else 0.0
        # Spread the annotators' first requests over one period so they do not arrive in lockstep.
        yield ("sleep", self.rng.random() * period if period else 0.0)
        start = time.perf_counter()
        done = 0
        submitted: set[int] = set()
        while time.perf_counter() < cfg["stop_at"] and done < cfg["max_judgments_each"]:
            status, body = yield ("next", "GET", self.next_path, None, None)
            if status == 204:
                record.exhausted = True
                return
            if status != 200:
                record.errors.append(f"next {status}: {body[:200]!r}")
                yield ("sleep", 0.05)
                continue
            task = orjson.loads(body)
            ids = [r["id"] for r in task["responses"]]
            self.rng.shuffle(ids)
            if task["id"] in submitted:
                record.served_again += 1
            record.served.append(task["id"])
            key = uuid.uuid4().hex
            payload = orjson.dumps({"ranking": ids, "time_spent_ms": 1000 + self.rng.randrange(9000)})
            path = f"/api/v1/tasks/{task['id']}/judgments/"
            status, body = yield ("submit", "POST", path, payload, key)
            if status == 201:
                record.submitted.append(task["id"])
                submitted.add(task["id"])
                done += 1
            else:
                record.errors.append(f"submit {status}: {body[:200]!r}")
            if self.rng.random() < cfg["replay_share"]:
                status, body = yield ("replay", "POST", path, payload, key)
                if status != 200:
                    record.errors.append(f"replay {status} (want 200): {body[:200]!r}")
            if period:
                yield ("sleep", start + done * period - time.perf_counter())


def _account(record: Record, kind: str, started: float, t0: float, status: int) -> None:
    lat = (time.perf_counter() - started) * 1000
    getattr(record, f"{kind}_lat").append((started - t0, lat))
    record.count(kind, status)


async def _run_async(cfg: dict, annotator: dict, record: Record, t0: float, seed: int) -> None:
    engine = RawConnection if cfg["engine"] == "raw" else HttpxConnection
    conn = engine(cfg["host"], cfg["port"], annotator["token"])
    gen = Script(cfg, annotator, record, t0, random.Random(seed)).run()
    reply = None
    try:
        while True:
            step = gen.send(reply)
            if step[0] == "sleep":
                await asyncio.sleep(max(0.0, step[1]))
                reply = None
                continue
            kind, method, path, body, key = step
            started = time.perf_counter()
            try:
                reply = await conn.request(method, path, body, key)
            except Exception as exc:  # every failure is counted and reported, never raised
                reply = (599, repr(exc).encode())
            _account(record, kind, started, t0, reply[0])
    except StopIteration:
        pass
    finally:
        record.reconnects = conn.reconnects
        conn.close()
        if cfg["engine"] == "httpx":
            await conn.client.aclose()


def _run_thread(cfg: dict, annotator: dict, record: Record, t0: float, seed: int) -> None:
    conn = ThreadConnection(cfg["host"], cfg["port"], annotator["token"])
    gen = Script(cfg, annotator, record, t0, random.Random(seed)).run()
    reply = None
    try:
        while True:
            step = gen.send(reply)
            if step[0] == "sleep":
                time.sleep(max(0.0, step[1]))
                reply = None
                continue
            kind, method, path, body, key = step
            started = time.perf_counter()
            try:
                reply = conn.request(method, path, body, key)
            except Exception as exc:  # every failure is counted and reported, never raised
                reply = (599, repr(exc).encode())
            _account(record, kind, started, t0, reply[0])
    except StopIteration:
        pass
    finally:
        record.reconnects = conn.reconnects
        conn.close()


# --- the run -------------------------------------------------------------------------------------------------------


def _progress(records: list[Record], cfg: dict, t0: float, stop: threading.Event) -> None:
    from tqdm import tqdm

    total = cfg["warmup"] + cfg["duration"]
    with tqdm(total=round(total), unit="s", desc=cfg.get("label", "load"), file=sys.stderr, leave=False) as bar:
        while not stop.wait(0.5):
            elapsed = min(total, time.perf_counter() - t0)
            bar.n = round(elapsed)
            bar.set_postfix(judgments=sum(len(r.submitted) for r in records), refresh=False)
            bar.refresh()


def run(cfg: dict) -> dict:
    records = [Record() for _ in cfg["annotators"]]
    t0 = time.perf_counter()
    cfg["stop_at"] = t0 + cfg["warmup"] + cfg["duration"]
    meter_box: dict = {}

    def start_meter() -> None:
        groups = {"server": cfg["server_pids"]}
        if cfg.get("pg_database"):  # backends are opened during warm-up, so they are looked up now
            groups["postgres"] = harness.postgres_pids(cfg["pg_database"])
        meter_box["meter"] = harness.CpuMeter(groups)
        meter_box["client"] = resource.getrusage(resource.RUSAGE_SELF)

    stop_progress = threading.Event()
    progress = threading.Thread(target=_progress, args=(records, cfg, t0, stop_progress), daemon=True)
    if cfg.get("progress", True):
        progress.start()
    timer = threading.Timer(cfg["warmup"], start_meter)
    timer.start()
    end_box: dict = {}
    end_timer = threading.Timer(
        cfg["warmup"] + cfg["duration"],
        lambda: end_box.update(cpu=meter_box["meter"].stop(), client=resource.getrusage(resource.RUSAGE_SELF)),
    )
    end_timer.start()
    seeds = random.Random(cfg.get("seed", 1))
    if cfg["engine"] == "threads":
        threads = [
            threading.Thread(target=_run_thread, args=(cfg, a, r, t0, seeds.randrange(2**32)))
            for a, r in zip(cfg["annotators"], records, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:

        async def main() -> None:
            await asyncio.gather(
                *(
                    _run_async(cfg, a, r, t0, seeds.randrange(2**32))
                    for a, r in zip(cfg["annotators"], records, strict=True)
                )
            )

        asyncio.run(main())
    end_timer.join()
    stop_progress.set()
    cpu = end_box.get("cpu", {})
    if "client" in end_box:
        before, after = meter_box["client"], end_box["client"]
        cpu["client_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
        cpu["others_cpu_s"] = round(max(0.0, cpu["others_cpu_s"] - cpu["client_cpu_s"]), 2)
    return summarize(cfg, records, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="JSON written by annotation_load.py")
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    cfg = json.loads(args.config.read_text())
    args.output.write_text(json.dumps(run(cfg)))


if __name__ == "__main__":
    main()
