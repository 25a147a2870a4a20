"""The Django side of bench/export.py: building the projects and one export, each in a subprocess.

``python bench/export_stages.py --stage setup|export --stage-in IN.json --stage-out OUT.json`` (harness.run_stage
does this), plus the /proc memory readers the HTTP runs share.
"""

from __future__ import annotations

import hashlib
import random
import sys
import tempfile
import threading
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

RESPONSES_PER_PROMPT = 4  # 6 pairs per prompt


def _vocabulary(size: int = 4000) -> list[str]:
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    rng = random.Random(7)
    return ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(size)]


_WORDS = _vocabulary()
_RNG = random.Random(42)  # one stream for the whole build: deterministic, and cheap for millions of rows


def _text(words: int) -> str:
    """Varied text (so compression in Parquet is not flattered by repetition)."""
    return " ".join(_RNG.choices(_WORDS, k=words)).capitalize() + "."


def vmhwm_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def status_kib(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def vmrss_kib(pid: int | str = "self") -> int:
    return status_kib("VmRSS", pid)


class AnonSampler(threading.Thread):
    """Peak anonymous RSS of a process, sampled every 50 ms.

    VmHWM counts file-backed pages too, such as the part of the SQLite file the connection maps (mmap_size), which
    grows with the database read, not with what the export holds; RssAnon is the memory the process itself holds.
    """

    def __init__(self, pid: int | str = "self"):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, status_kib("RssAnon", self.pid))
            self.stop.wait(0.05)

    def finish(self) -> float:
        self.stop.set()
        self.join()
        self.peak_kib = max(self.peak_kib, status_kib("RssAnon", self.pid))
        return round(self.peak_kib / 1024, 1)


# --- Django stages -------------------------------------------------------------------------------------------------


def stage_setup(p: dict) -> dict:
    harness.django_setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from annotation.services import project_create

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings = {"migrate_s": round(time.perf_counter() - t, 2)}
    engineer = get_user_model().objects.create_user("bench-engineer", password="bench-password-1", is_staff=True)
    token = Token.objects.create(user=engineer).key
    projects = {}
    for size in p["sizes"]:
        project = project_create(name=f"export-{size}", task_kinds=["comparison"], responses_per_comparison=2)
        t = time.perf_counter()
        with transaction.atomic():
            counts = _bulk_build(connection, project, size)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                for table in ("annotation_prompt", "annotation_response", "annotation_preferencepair"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                cur.execute("ANALYZE")
        elapsed = time.perf_counter() - t
        timings[f"build_{size}_s"] = round(elapsed, 1)
        timings[f"build_{size}_rows_per_s"] = round(sum(counts.values()) / elapsed)
        projects[str(size)] = project.pk
    return {"projects": projects, "token": token, "timings": timings}


def _bulk_build(connection, project, pairs: int, block: int = 10_000) -> dict:
    """Prompts, responses and consensus pairs with explicit ids, in bulk (COPY on PostgreSQL, executemany on SQLite).

    Written in blocks of ``block`` prompts so the builder's memory stays flat at any size.
    """
    from django.utils import timezone

    from annotation.hashing import canonical_json, content_hash, split_for, text_hash

    k = RESPONSES_PER_PROMPT
    per_prompt = k * (k - 1) // 2
    n_prompts = -(-pairs // per_prompt)
    with connection.cursor() as cur:
        start = {}
        for table in ("annotation_prompt", "annotation_response", "annotation_preferencepair"):
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            start[table] = cur.fetchone()[0] + 1
    now = timezone.now()
    if connection.vendor != "postgresql":
        now = connection.ops.adapt_datetimefield_value(now)
    response_id, pair_id = start["annotation_response"], start["annotation_preferencepair"]
    counts = {"prompts": 0, "responses": 0, "pairs": 0}
    for first in range(0, n_prompts, block):
        prompt_rows, response_rows, pair_rows = [], [], []
        for i in range(first, min(first + block, n_prompts)):
            prompt_id = start["annotation_prompt"] + i
            messages = [{"role": "user", "content": f"Question {i} of project {project.pk}: " + _text(18)}]
            external_id = f"q{i}"
            split = split_for(external_id, project.split_ratios)
            prompt_rows.append(
                (
                    prompt_id,
                    project.pk,
                    external_id,
                    canonical_json(messages).decode(),
                    False,
                    "{}",
                    content_hash(messages),
                    split,
                    now,
                )
            )
            ids = []
            for j in range(k):
                text = f"Candidate {j}: " + _text(60 + 25 * j)
                response_rows.append(
                    (response_id, prompt_id, text, text_hash(text), "model", f"model-{j}", "", "{}", now)
                )
                ids.append(response_id)
                response_id += 1
            for a, b in combinations(ids, 2):
                if pair_id - start["annotation_preferencepair"] >= pairs:
                    break
                pair_rows.append((pair_id, project.pk, prompt_id, split, a, b, 2, 1, 0, False, 1 / 3, 2 / 3, 1.5))
                pair_id += 1
        _insert(
            connection,
            "annotation_prompt",
            "id, project_id, external_id, messages, is_conversation, metadata, content_hash, split, created_at",
            prompt_rows,
        )
        _insert(
            connection,
            "annotation_response",
            "id, prompt_id, text, text_hash, source, model_name, model_version, generation_params, created_at",
            response_rows,
        )
        _insert(
            connection,
            "annotation_preferencepair",
            "id, project_id, prompt_id, split, chosen_id, rejected_id, votes_chosen, votes_rejected, votes_tie, "
            "is_tie, margin, agreement, strength",
            pair_rows,
        )
        counts["prompts"] += len(prompt_rows)
        counts["responses"] += len(response_rows)
        counts["pairs"] += len(pair_rows)
    return counts


def _insert(connection, table: str, columns: str, rows: list[tuple]) -> None:
    raw = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in columns.split(","))
        raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


def _sqlite_heap_peak_mib() -> float | None:
    """Peak of the memory SQLite itself allocated in this process (page cache included), via sqlite3_status64.

    Settings give each connection a 64 MiB page cache (and map up to 256 MiB of the file); an export shrinks both
    while it reads (``webapp.fastsql.streaming_read``), and this shows what SQLite still held.
    """
    import ctypes

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")  # the library Python's sqlite3 module is linked against
    except OSError:
        return None
    current, highwater = ctypes.c_int64(), ctypes.c_int64()
    if lib.sqlite3_status64(0, ctypes.byref(current), ctypes.byref(highwater), 0) != 0:  # SQLITE_STATUS_MEMORY_USED
        return None
    return round(highwater.value / 2**20, 1)


def _db_backend_cpu() -> float:
    """CPU seconds of the PostgreSQL backend serving this process's connection (0 on SQLite: it is in-process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    return harness.proc_cpu_seconds(connection.connection.info.backend_pid)


def stage_export(p: dict) -> dict:
    """One export in this (fresh) process: rows/s and peak RSS, through the real selector and stream."""
    harness.django_setup()
    from annotation.export_formats import stream_columns
    from annotation.models import Project
    from annotation.selectors.export import PreferenceFilters, preference_batches

    project = Project.objects.get(pk=p["project"])
    baseline_kib = vmrss_kib()
    counted = [0]

    def counting(batches):
        for batch in batches:
            counted[0] += len(batch)
            yield batch

    out_bytes = 0
    digest = hashlib.sha256()
    sampler = AnonSampler()
    sampler.start()
    t = time.perf_counter()
    cpu = time.process_time()
    db_cpu = _db_backend_cpu()
    machine_cpu = harness.machine_cpu_seconds()
    with tempfile.NamedTemporaryFile(suffix=f".{p['format']}", dir=p["tmpdir"]) as fh:
        batches = counting(preference_batches(project=project, filters=PreferenceFilters()))
        for chunk in stream_columns(batches, p["format"]):
            out_bytes += len(chunk)
            if p["format"] == "parquet":
                fh.write(chunk)  # kept to check the file; JSONL is only counted (and hashed) in memory
            else:
                digest.update(chunk)
        elapsed = time.perf_counter() - t
        machine_cpu = harness.machine_cpu_seconds() - machine_cpu
        cpu = time.process_time() - cpu
        db_cpu = _db_backend_cpu() - db_cpu
        peak_anon = sampler.finish()
        if p["format"] == "parquet":
            fh.flush()
            import pyarrow.parquet as pq

            file_rows = pq.ParquetFile(fh.name).metadata.num_rows
        else:
            file_rows = counted[0]
    from django.db import connection

    sqlite_heap = _sqlite_heap_peak_mib() if connection.vendor == "sqlite" else None
    return {
        "sqlite_heap_peak_mib": sqlite_heap,
        "peak_anon_rss_without_sqlite_heap_mib": round(peak_anon - sqlite_heap, 1) if sqlite_heap else None,
        "rows": counted[0],
        "file_rows": file_rows,
        "bytes": out_bytes,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "db_server_cpu_seconds": round(db_cpu, 2),
        # What one core would do if it did only this work: the figure other agents' load on the machine cannot
        # lower (the database server's share included; on SQLite it runs inside the process).
        "rows_per_cpu_s": round(counted[0] / (cpu + db_cpu)),
        "rows_per_s": round(counted[0] / elapsed),
        # The rest of the machine (other processes, other agents) over the same window: what wall-clock figures
        # competed with on the shared cores.
        "others_cpu_seconds": round(max(machine_cpu - cpu - db_cpu, 0.0), 2),
        "peak_rss_mib": round(vmhwm_kib() / 1024, 1),
        "peak_anon_rss_mib": peak_anon,
        "rss_before_export_mib": round(baseline_kib / 1024, 1),
    }


STAGES = {"setup": stage_setup, "export": stage_export}


if __name__ == "__main__":
    harness.stage_main(STAGES, __doc__)
