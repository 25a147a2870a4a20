"""The train_tokenizer job, stage by stage: train (in a worker process), encode every prepared shard into a part
(worker processes, both cores), join the parts into token shards, measure the report. Each stage records what it
finished in the resume state, so a retried job continues where the last attempt stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.runners.base import ArtifactSpec, RunContext, RunResult

from .dataset import DatasetError, PreparedDataset
from .packing import TOKENS_FORMAT, token_dtype
from .processes import WorkerPool, available_cores
from .report import build_report
from .resume import RunState
from .sharding import assemble_split, encode_part, part_complete, part_name, part_path
from .trainers import train_task

# config fields that change how the job runs but not what it writes: a retry may change them and still resume
RUNTIME_FIELDS = ("workers", "input")
SAMPLE_CHARS = 400
ENCODE_PRELOAD = ("numpy", "pyarrow.parquet", "pyarrow.compute", "tokenizers", "training.tokenization.sharding")


@dataclass(frozen=True)
class Part:
    split: str
    index: int
    shard: Path

    @property
    def name(self) -> str:
        return part_name(self.split, self.index)


def fingerprint(config: dict[str, Any], dataset: PreparedDataset) -> str:
    relevant = {k: v for k, v in config.items() if k not in RUNTIME_FIELDS}
    blob = json.dumps({"config": relevant, "dataset": dataset.fingerprint}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


class TokenizerJob:
    def __init__(self, config: dict[str, Any], ctx: RunContext):
        self.config = config
        self.ctx = ctx
        self.input_path = Path(ctx.resolve_input(config["input"], kind="dataset"))
        self.dataset = PreparedDataset.open(self.input_path)
        if self.dataset.documents("train") == 0:
            raise DatasetError(f"the train split of {self.input_path} has no documents: nothing to train on")
        self.report_split = self.dataset.report_split()
        self.tokenizer_dir = ctx.folder / "tokenizer"
        self.tokens_dir = ctx.folder / "tokens"
        self.parts_dir = self.tokens_dir / ".parts"
        self.cores = available_cores()
        self.workers = config["workers"] or self.cores
        splits = self.dataset.splits if config["write_token_shards"] else {}
        if not config["write_token_shards"] and self.report_split in self.dataset.splits:
            splits = {self.report_split: self.dataset.splits[self.report_split]}
        self.parts = [Part(name, i, shard) for name, info in splits.items() for i, shard in enumerate(info.shards)]
        self.total_steps = len(self.parts) + 2
        self.state = RunState.begin(ctx.folder, fingerprint(config, self.dataset), resume=ctx.attempt > 1, log=ctx.log)

    # --- stages ---------------------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        if (
            self.state.data.get("complete")
            and (self.tokens_dir / "meta.json").exists() == self.config["write_token_shards"]
        ):
            self.ctx.log("an earlier attempt finished every stage; returning its result")
            self.ctx.report("tokenizer_report", self.state.data["report"])
            self._remove_scratch()
            return self._result(self.state.data["summary"])
        started = time.monotonic()
        # the encode workers start now and import their libraries while the tokenizer trains
        workers = max(1, min(self.workers, len(self.parts)))
        threads = max(1, self.cores // workers)
        with WorkerPool(workers, threads_per_process=threads, preload=ENCODE_PRELOAD) as pool:
            trained, reused = self.train()
            self.encode(trained, pool, threads)
        splits = self.assemble(trained) if self.config["write_token_shards"] else {}
        report = self.report(trained)
        self.ctx.report("tokenizer_report", report)
        evaluation = report["evaluation"]
        final = {k: evaluation.get(k) for k in ("chars_per_token", "bytes_per_token", "tokens_per_word", "unk_rate")}
        final["vocab_usage"] = evaluation.get("vocab_usage")
        self.ctx.metrics(self.total_steps, {k: v for k, v in final.items() if v is not None})
        summary = {
            "algorithm": self.config["algorithm"],
            "vocab_size": trained["vocab_size"],
            "special_token_ids": trained["special_token_ids"],
            "dtype": str(token_dtype(trained["vocab_size"])),
            "splits": splits,
            "report_split": self.report_split,
            **final,
            "tokenizer_reused": reused,
            "parts_resumed": self._resumed,
            "seconds": round(time.monotonic() - started, 3),
        }
        self.state.set_complete(summary, report)
        self._remove_scratch()
        self.ctx.progress(self.total_steps, self.total_steps, "done")
        return self._result(summary)

    def train(self) -> tuple[dict[str, Any], bool]:
        trained = self.state.tokenizer
        if trained and _sha256(self.tokenizer_dir / "tokenizer.json") == trained["sha256"]:
            self.ctx.log(f"tokenizer from an earlier attempt kept ({trained['vocab_size']} tokens)")
            return trained, True
        self.ctx.progress(0, self.total_steps, "training tokenizer")
        self.ctx.log(f"training a {self.config['algorithm']} tokenizer, vocab_size {self.config['vocab_size']}")
        tmp = self.ctx.folder / ".tokenizer.tmp"
        task = {
            "config": self.config,
            "dataset": str(self.input_path),
            "output": str(tmp),
            "report_split": self.report_split,
            "samples": self.config["report_samples"],
            "sample_chars": SAMPLE_CHARS,
        }
        with WorkerPool(1, threads_per_process=self.cores) as pool:
            trained = pool.call(train_task, task, self.ctx.check_cancelled)
        shutil.rmtree(self.tokenizer_dir, ignore_errors=True)
        os.replace(tmp, self.tokenizer_dir)
        shutil.rmtree(self.parts_dir, ignore_errors=True)  # encoded by an earlier tokenizer, if any
        self.state.set_tokenizer(trained)
        self.ctx.log(
            f"trained on {trained['training_documents']} documents in {trained['training_seconds']} s: "
            f"{trained['vocab_size']} tokens"
        )
        return trained, False

    def encode(self, trained: dict[str, Any], pool: WorkerPool, threads: int) -> None:
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.parts_dir.glob(".*.tmp"):
            leftover.unlink()
        done = {
            p.name
            for p in self.parts
            if p.name in self.state.parts and part_complete(self.parts_dir, p.name, p.split == self.report_split)
        }
        pending = [p for p in self.parts if p.name not in done]
        self._resumed = len(done)
        step = 1 + len(done)
        self.ctx.progress(step, self.total_steps, f"tokenizing {len(pending)} shard(s)")
        if not pending:
            return
        self.ctx.log(f"tokenizing {len(pending)} shard(s) with {pool.processes} process(es) x {threads} thread(s)")
        dtype = str(token_dtype(trained["vocab_size"]))
        common = {
            "tokenizer_json": str(self.tokenizer_dir / "tokenizer.json"),
            "parts": str(self.parts_dir),
            "dtype": dtype,
            "vocab_size": trained["vocab_size"],
            "eos_id": trained["eos_id"],
            "bos_id": trained["bos_id"],
            "unk_id": trained["unk_id"],
            "specials_per_doc": 1 if self.config["add_bos"] else 0,
            "batch_size": 1024,
        }
        started, tokens = time.monotonic(), 0
        tasks = [
            {**common, "name": p.name, "shard": str(p.shard), "with_counts": p.split == self.report_split}
            for p in pending
        ]
        for part, stats in zip(pending, pool.map(encode_part, tasks, self.ctx.check_cancelled), strict=True):
            self.state.add_part(part.name, stats)
            step += 1
            tokens += stats["tokens"]
            elapsed = max(time.monotonic() - started, 1e-9)
            self.ctx.metrics(step, {"tokens": tokens, "tokens_per_second": tokens / elapsed})
            self.ctx.progress(step, self.total_steps, f"tokenized {part.name}")
            self.ctx.check_cancelled()

    def assemble(self, trained: dict[str, Any]) -> dict[str, dict[str, int]]:
        self.ctx.check_cancelled()
        dtype = token_dtype(trained["vocab_size"])
        splits = {}
        for split in self.dataset.splits:
            names = [p.name for p in self.parts if p.split == split]
            curriculum = self.config["curriculum"] and split == "train"
            splits[split] = assemble_split(self.parts_dir, names, self.tokens_dir, split, dtype, curriculum=curriculum)
            self.ctx.check_cancelled()
        meta = {
            "format": TOKENS_FORMAT,
            "dtype": str(dtype),
            "vocab_size": trained["vocab_size"],
            "eos_id": trained["eos_id"],
            "bos_id": trained["bos_id"],
            "pad_id": trained["pad_id"],
            "add_bos": self.config["add_bos"],
            "splits": splits,
            "tokenizer": "../tokenizer",
            "order": "curriculum" if self.config["curriculum"] else "as-prepared",
            "dataset": self.dataset.fingerprint,
        }
        tmp = self.tokens_dir / ".meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.tokens_dir / "meta.json")
        self.ctx.log("token shards: " + ", ".join(f"{s} {v['tokens']} tokens" for s, v in splits.items()))
        return splits

    def report(self, trained: dict[str, Any]) -> dict[str, Any]:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_dir / "tokenizer.json"))
        names = [p.name for p in self.parts if p.split == self.report_split]
        lens = [np.load(part_path(self.parts_dir, n, "lens.npy")) for n in names]
        counts = None
        for name in names:
            part_counts = np.load(part_path(self.parts_dir, name, "counts.npy"))
            counts = part_counts if counts is None else counts + part_counts
        specials = 1 + (1 if self.config["add_bos"] else 0)
        doc_tokens = np.concatenate(lens) - specials if lens else np.zeros(0, dtype=np.int64)
        return build_report(
            config=self.config,
            trained=trained,
            dataset={"path": str(self.input_path), "fingerprint": self.dataset.fingerprint},
            split=self.report_split,
            stats=[self.state.parts[n] for n in names],
            doc_tokens=doc_tokens,
            counts=counts,
            token_text=lambda i: (tokenizer.id_to_token(i), tokenizer.decode([i], skip_special_tokens=False)),
        )

    def _remove_scratch(self) -> None:
        """Parts are scratch once the shards and the report exist; they must not end up in the artifact."""
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        if not self.config["write_token_shards"]:
            shutil.rmtree(self.tokens_dir, ignore_errors=True)

    def _result(self, summary: dict[str, Any]) -> RunResult:
        parent = str(self.input_path)
        artifacts = [
            ArtifactSpec(
                kind="tokenizer",
                path=self.tokenizer_dir,
                name=f"{self.config['algorithm']} tokenizer ({summary['vocab_size']} tokens)",
                parents=[parent],
                metadata={k: summary[k] for k in ("algorithm", "vocab_size", "special_token_ids")},
            )
        ]
        if self.config["write_token_shards"]:
            artifacts.append(
                ArtifactSpec(
                    kind="token_shards",
                    path=self.tokens_dir,
                    name=f"token shards ({summary['dtype']})",
                    parents=[parent, str(self.tokenizer_dir)],
                    metadata={"dtype": summary["dtype"], "splits": summary["splits"]},
                )
            )
        return RunResult(summary=summary, artifacts=artifacts)
