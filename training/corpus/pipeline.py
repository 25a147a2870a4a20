"""The corpus run: stream shards through the workers, dedup in order, commit each shard, build the dataset.

Resume: after every shard the run commits the shard's rows, its dedup state (exact hashes, MinHash signatures,
offsets into the shingle file) and its tally, then rewrites ``work/progress.json`` atomically. A later attempt
(``ctx.attempt > 1``) with the same config re-enters the committed shards into the dedup indexes, skips the
documents they consumed and carries on; one with a changed config starts over. The dataset is then built from the
committed rows alone, so its bytes and sha256 match an uninterrupted run's.
"""

import dataclasses
import hashlib
import itertools
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..configs import to_dict
from ..runners.base import ArtifactSpec, RunResult
from .dedup import ExactIndex, NearDupIndex
from .documents import CorpusError
from .executor import make_executor
from .funnel import Tally, text_bytes
from .shards import (
    FORMAT,
    atomic_write_json,
    build_dataset,
    commit_shard,
    dataset_sha256,
    read_table,
    rows_table,
    shard_dir,
)
from .sources import check_sources, estimate_bytes, iter_documents
from .worker import ShardOutput, enabled_steps, init_worker, process_shard

STATE_FILE = "progress.json"
SAMPLES_FILE = "samples.json"  # beside the dataset, not in it: samples of removed documents are not training data


@dataclass
class RunState:
    config_digest: str
    shards_done: int = 0
    consumed: int = 0  # documents of the stream taken by the committed shards
    next_key: int = 0  # near-dup key of the next document kept
    shingle_bytes: int = 0  # committed length of the shingle file

    def save(self, work: Path) -> None:
        atomic_write_json(work / STATE_FILE, dataclasses.asdict(self))

    @classmethod
    def load(cls, work: Path) -> "RunState | None":
        try:
            return cls(**json.loads((work / STATE_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def config_digest(config: Any) -> str:
    """What the output depends on: the whole config except how many workers run it."""
    data = to_dict(config)
    data.pop("workers", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class _Run:
    def __init__(self, config: Any, ctx: Any, work: Path, state: RunState):
        self.config, self.ctx, self.work, self.state = config, ctx, work, state
        self.exact = ExactIndex() if config.exact_dedup.enabled else None
        self.near = (
            NearDupIndex(config.near_dup, work / "shingles.bin", state.shingle_bytes)
            if config.near_dup.enabled
            else None
        )
        self.first_keys: list[int] = []  # near-dup key of each committed shard's first kept document
        self.totals = Tally(config.samples_per_step)
        self.started = time.monotonic()
        self.read_at_start = 0
        self.total_bytes = estimate_bytes(config.sources)

    def restore(self) -> None:
        """Re-enter the committed shards into the dedup indexes, in order."""
        for index in range(self.state.shards_done):
            folder = shard_dir(self.work, index)
            with np.load(folder / "dedup.npz") as saved:
                if self.exact is not None:
                    self.exact.seen.update(bytes(row) for row in saved["exact"])
                if self.near is not None:
                    self.near.restore(saved["keys"], saved["signatures"], saved["offsets"])
            stats = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
            self.first_keys.append(stats["first_key"])
            self.totals.merge_json(stats["tally"])
        self.read_at_start = self.totals.step("read").bytes_in

    def _kept_id(self, key: int, pending_ids: list[str], pending_first: int) -> str:
        if key >= pending_first:
            return pending_ids[key - pending_first]
        shard = int(np.searchsorted(np.asarray(self.first_keys), key, side="right")) - 1
        ids = read_table(shard_dir(self.work, shard) / "rows.parquet", columns=["id"])["id"]
        return ids[key - self.first_keys[shard]].as_py()

    def commit(self, out: ShardOutput) -> None:
        cfg = self.config
        tally = Tally(cfg.samples_per_step)
        tally.merge_json(out.tally)
        columns: dict[str, list] = {name: [] for name in ("id", "text", "source", "split", "difficulty", "flags")}
        exact_kept, keys, signatures = [], [], []
        first_key = self.state.next_key
        for i, text in enumerate(out.texts):
            size = text_bytes(text)
            if self.exact is not None:
                if not self.exact.add(out.exact[i]):
                    tally.removed("exact_dedup", "duplicate", size, {"id": out.ids[i], "text": text})
                    continue
                tally.passed("exact_dedup", size, size)
                exact_kept.append(out.exact[i])
            if self.near is not None:
                key = self.state.next_key
                found = self.near.check(key, out.signatures[i], out.shingles[i])
                if found is not None:
                    sample = None
                    if len(tally.samples.get("near_dup", [])) < cfg.samples_per_step:
                        duplicate_of = self._kept_id(found[0], columns["id"], first_key)
                        sample = {
                            "id": out.ids[i],
                            "duplicate_of": duplicate_of,
                            "similarity": round(found[1], 4),
                            "text": text,
                        }
                    tally.removed("near_dup", "near_duplicate", size, sample)
                    continue
                tally.passed("near_dup", size, size)
                self.state.next_key += 1
                keys.append(key)
                signatures.append(out.signatures[i])
            for name, values in (
                ("id", out.ids),
                ("text", out.texts),
                ("source", out.sources),
                ("split", out.splits),
                ("difficulty", out.difficulty),
                ("flags", out.flags),
            ):
                columns[name].append(values[i])
        columns["n_chars"] = [len(t) for t in columns["text"]]
        offsets = np.zeros(1, dtype=np.int64)
        if self.near is not None:
            _, offsets = self.near.commit()
        num_perm = cfg.near_dup.num_perm

        def write(folder: Path) -> None:
            from .shards import write_table

            write_table(rows_table(columns), folder / "rows.parquet")
            np.savez(
                folder / "dedup.npz",
                exact=np.frombuffer(b"".join(exact_kept), dtype=np.uint8).reshape(-1, 16),
                keys=np.asarray(keys, dtype=np.int64),
                signatures=np.stack(signatures) if signatures else np.zeros((0, num_perm), dtype=np.uint32),
                offsets=offsets,
            )
            stats = {"consumed": out.consumed, "first_key": first_key, "tally": tally.to_json()}
            atomic_write_json(folder / "stats.json", stats)

        commit_shard(self.work, out.index, write)
        self.first_keys.append(first_key)
        self.state.shards_done = out.index + 1
        self.state.consumed += out.consumed
        self.state.shingle_bytes = self.near.size if self.near is not None else 0
        self.state.save(self.work)
        self.totals.merge_json(tally.to_json())
        self._report(out.index, tally, len(columns["id"]))

    def _report(self, index: int, tally: Tally, kept: int) -> None:
        read = self.totals.step("read")
        kept_total = self._kept_total()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        mb_read = read.bytes_in / 1e6
        rate = (read.bytes_in - self.read_at_start) / 1e6 / elapsed
        total_kb = None if self.total_bytes is None else max(self.total_bytes, read.bytes_in) // 1000
        self.ctx.progress(read.bytes_in // 1000, total_kb, f"shard {index + 1}: {mb_read:.1f} MB read")
        self.ctx.metrics(
            index + 1,
            {
                "documents_read": read.documents_in,
                "documents_kept": kept_total,
                "megabytes_read": round(mb_read, 3),
                "throughput_mb_s": round(rate, 3),
            },
        )
        removed = {name: c.documents_in - c.documents_out for name, c in tally.steps.items()}
        detail = ", ".join(f"{name} -{n}" for name, n in removed.items() if n)
        self.ctx.log(
            f"shard {index + 1}: read {tally.step('read').documents_in} documents "
            f"({tally.step('read').bytes_in / 1e6:.2f} MB), kept {kept}" + (f"; removed: {detail}" if detail else "")
        )

    def _kept_total(self) -> int:
        steps = enabled_steps(self.config)
        last = self.totals.steps.get(steps[-1])
        return last.documents_out if last is not None else 0

    def shards(self, executor):
        stream = itertools.islice(iter_documents(self.config.sources, executor), self.state.consumed, None)
        for index in itertools.count(self.state.shards_done):
            docs = list(itertools.islice(stream, self.config.shard_size))
            if not docs:
                return
            yield (index, docs)

    def close(self) -> None:
        if self.near is not None:
            self.near.close()


def _samples(tally: Tally, steps: list[str]) -> dict[str, list[dict]]:
    return {name: tally.samples[name] for name in steps if tally.samples.get(name)}


def _result(manifest: dict, target: Path, name: str) -> RunResult:
    summary = {
        "documents": manifest["documents"],
        "bytes": manifest["bytes"],
        "splits": {k: v["documents"] for k, v in manifest["splits"].items()},
        "sha256": manifest["sha256"],
        "funnel": [
            {"step": r["step"], "documents_out": r["documents_out"], "bytes_out": r["bytes_out"]}
            for r in manifest["funnel"]
        ],
    }
    metadata = {
        "format": FORMAT,
        "documents": manifest["documents"],
        "bytes": manifest["bytes"],
        "splits": manifest["splits"],
        "sha256": manifest["sha256"],
    }
    return RunResult(
        summary=summary, artifacts=[ArtifactSpec(kind="dataset", path=target, name=name, metadata=metadata)]
    )


def _funnel_text(funnel: list[dict]) -> str:
    return ", ".join(f"{r['step']} {r['documents_out']}" for r in funnel)


def run_pipeline(config: Any, ctx: Any) -> RunResult:
    work = ctx.folder / "work"
    target = ctx.folder / "dataset"
    digest = config_digest(config)
    name = config.name or f"corpus-{digest[:8]}"
    manifest_path = target / "manifest.json"
    if ctx.attempt > 1 and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("config_digest") == digest:
            ctx.log("dataset already complete from an earlier attempt")
            _report_pages(ctx, manifest, ctx.folder / SAMPLES_FILE)
            return _result(manifest, target, name)
    state = RunState.load(work) if ctx.attempt > 1 else None
    if state is not None and state.config_digest != digest:
        ctx.log("the config changed since the last attempt: starting over")
        state = None
    if state is None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        state = RunState(config_digest=digest)
    else:
        ctx.log(f"resuming after {state.shards_done} committed shards ({state.consumed} documents)")
    check_sources(config.sources)
    work.mkdir(parents=True, exist_ok=True)
    state.save(work)
    ctx.check_cancelled()
    run = _Run(config, ctx, work, state)
    executor = None
    try:
        run.restore()
        executor = make_executor(config.workers, init_worker, (config,))
        window = executor.workers + 1
        for _, out in executor.ordered_map(process_shard, run.shards(executor), window=window, with_items=True):
            run.commit(out)
            ctx.check_cancelled()
        executor.shutdown()
        executor = None
    finally:
        if executor is not None:
            executor.shutdown(kill=True)
        run.close()
    return _finalize(config, ctx, run, target, digest, name)


def _finalize(config: Any, ctx: Any, run: _Run, target: Path, digest: str, name: str) -> RunResult:
    steps = enabled_steps(config)
    funnel = run.totals.funnel(steps)
    if run.totals.step("read").documents_in == 0:
        raise CorpusError("the sources produced no documents: check the paths, formats and text_field")
    kept = funnel[-1]["documents_out"]
    if kept == 0:
        raise CorpusError(
            f"no documents left after filtering (documents after each step: {_funnel_text(funnel)}); loosen the "
            "step that removed them or disable it"
        )
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    splits = build_dataset(run.work, run.state.shards_done, tmp, config.output_shard_documents)
    manifest = {
        "format": FORMAT,
        "name": name,
        "documents": sum(s["documents"] for s in splits.values()),
        "bytes": sum(s["bytes"] for s in splits.values()),
        "splits": splits,
        "columns": ["id", "text", "source", "split", "difficulty", "flags", "n_chars"],
        "funnel": funnel,
        "config": to_dict(config),
        "config_digest": digest,
        "sha256": dataset_sha256(tmp, splits),
    }
    atomic_write_json(tmp / "manifest.json", manifest)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    atomic_write_json(ctx.folder / SAMPLES_FILE, _samples(run.totals, steps))
    _report_pages(ctx, manifest, ctx.folder / SAMPLES_FILE)
    shutil.rmtree(run.work, ignore_errors=True)
    elapsed = time.monotonic() - run.started
    ctx.log(
        f"dataset {name}: {manifest['documents']} documents, {manifest['bytes'] / 1e6:.2f} MB, "
        f"sha256 {manifest['sha256'][:12]}, in {elapsed:.1f} s"
    )
    result = _result(manifest, target, name)
    result.summary["seconds"] = round(elapsed, 2)
    return result


def _report_pages(ctx: Any, manifest: dict, samples_file: Path) -> None:
    ctx.report("funnel", manifest["funnel"])
    if samples_file.exists():
        ctx.report("samples", json.loads(samples_file.read_text(encoding="utf-8")))
