"""Token shards: exact contents, curriculum order, determinism, resume after a crash, cancel between shards."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.training.tokenization.conftest import folder_bytes, run_tokenizer
from training.runners.base import JobCancelled
from training.runners.cli import LocalContext
from training.tokenization.packing import TokenShards, token_dtype


def split_documents(dataset, split):
    manifest = json.loads((dataset / "manifest.json").read_text())
    rows = []
    for shard in manifest["splits"][split]["shards"]:
        table = pq.read_table(dataset / shard, columns=["text", "difficulty"]).to_pylist()
        rows += [(r["text"], r["difficulty"]) for r in table]
    return rows


def encode_all(tokenizer, texts):
    return [[*tokenizer(t).input_ids, tokenizer.eos_token_id] for t in texts]


class InterruptingContext(LocalContext):
    """Crashes (or asks to cancel) right after the runner reports its ``after``-th tokenized shard."""

    def __init__(self, folder, *, after, action, attempt=1):
        super().__init__(folder, show_progress=False, attempt=attempt)
        self.after, self.action, self.done = after, action, 0

    def progress(self, step, total=None, message=""):
        super().progress(step, total, message)
        if message.startswith("tokenized "):
            self.done += 1
            if self.done == self.after:
                if self.action == "crash":
                    raise RuntimeError("simulated crash")
                self.cancel_event.set()


def test_shards_hold_each_document_encoded_plus_eos(trained, prepared_dataset):
    from transformers import AutoTokenizer

    run = trained(algorithm="bpe")
    shards = TokenShards(run.folder / "tokens")
    tokenizer = AutoTokenizer.from_pretrained(shards.tokenizer_path)
    assert shards.tokenizer_path == (run.folder / "tokenizer").resolve()
    meta = shards.meta
    assert meta["format"] == "plumbline.tokens/1"
    assert (meta["dtype"], meta["eos_id"], meta["bos_id"], meta["order"]) == ("uint16", 2, 1, "as-prepared")
    assert meta["vocab_size"] == len(tokenizer)
    assert list(meta["splits"]) == ["train", "validation", "test"]
    for split in ("train", "validation", "test"):
        expected = encode_all(tokenizer, [t for t, _ in split_documents(prepared_dataset, split)])
        documents = [d.tolist() for d in shards.documents(split)]
        assert documents == expected
        assert meta["splits"][split] == {"tokens": sum(map(len, expected)), "documents": len(expected)}
        assert shards.split_tokens(split).dtype == np.uint16
        starts = shards.document_starts(split)
        assert starts.dtype == np.int64 and starts[0] == 0
        assert np.array_equal(np.diff(starts), [len(d) for d in expected[:-1]])
    assert run.result.summary["splits"]["train"]["documents"] == len(split_documents(prepared_dataset, "train"))
    assert not (run.folder / "tokens" / ".parts").exists()


def test_reader_packs_fixed_length_windows(trained):
    shards = TokenShards(trained(algorithm="bpe").folder / "tokens")
    tokens = np.asarray(shards.split_tokens("train"))
    windows = list(shards.iter_sequences("train", 128))
    assert len(windows) == shards.num_sequences("train", 128) == tokens.size // 128
    assert all(w.shape == (128,) for w in windows)
    assert np.array_equal(np.concatenate(windows), tokens[: len(windows) * 128])
    assert np.array_equal(shards.sequence("train", 128, 3), windows[3])
    assert np.array_equal(next(shards.iter_sequences("train", 128, start=5)), windows[5])
    with pytest.raises(IndexError):
        shards.sequence("train", 128, len(windows))
    with pytest.raises(KeyError, match="no split 'dev'"):
        shards.num_tokens("dev")


def test_dtype_follows_vocabulary_size():
    assert token_dtype(2048) == np.uint16
    assert token_dtype(65535) == np.uint16
    assert token_dtype(65536) == np.uint32
    assert token_dtype(200_000) == np.uint32


def test_curriculum_orders_train_by_difficulty_and_bos_is_prepended(trained, prepared_dataset):
    from transformers import AutoTokenizer

    run = trained(algorithm="bpe", curriculum=True, add_bos=True, workers=1)
    shards = TokenShards(run.folder / "tokens")
    tokenizer = AutoTokenizer.from_pretrained(run.folder / "tokenizer")
    assert shards.meta["order"] == "curriculum" and shards.meta["add_bos"] is True
    rows = split_documents(prepared_dataset, "train")
    order = sorted(range(len(rows)), key=lambda i: rows[i][1])  # Python's sort is stable, like the runner's
    expected = encode_all(tokenizer, [rows[i][0] for i in order])
    documents = [d.tolist() for d in shards.documents("train")]
    assert documents == expected
    assert all(d[0] == tokenizer.bos_token_id and d[-1] == tokenizer.eos_token_id for d in documents)
    difficulty = np.asarray(shards.document_difficulty("train"))
    assert np.all(np.diff(difficulty) >= 0)
    # held-out splits keep their prepared order
    validation = split_documents(prepared_dataset, "validation")
    assert [d.tolist() for d in shards.documents("validation")] == encode_all(tokenizer, [t for t, _ in validation])
    assert (
        tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False) == "<|bos|><|user|>hi<|eos|>"
    )


def test_same_input_and_config_give_identical_bytes_whatever_the_process_count(trained, prepared_dataset, tmp_path):
    first = trained(algorithm="bpe")  # two worker processes
    config = {"vocab_size": 1024, "algorithm": "bpe", "input": str(prepared_dataset), "workers": 1}
    again = run_tokenizer(tmp_path, config)
    for name in ("tokenizer", "tokens"):
        assert folder_bytes(again.folder / name) == folder_bytes(first.folder / name), name


def test_crash_then_cancel_then_resume_give_the_uninterrupted_output(trained, prepared_dataset, tmp_path):
    """A job's life with interruptions: attempt 1 crashes after 3 shards; attempt 2 resumes and is cancelled 2
    shards later; attempt 3 finishes; attempt 4 (a retry of a finished job) only returns the result."""
    config = {"vocab_size": 1024, "algorithm": "bpe", "input": str(prepared_dataset)}
    state_file = tmp_path / "train_tokenizer.state.json"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_tokenizer(tmp_path, config, ctx=InterruptingContext(tmp_path, after=3, action="crash"))
    state = json.loads(state_file.read_text())
    assert len(state["parts"]) == 3 and state["tokenizer"] and not state["complete"]
    assert not (tmp_path / "tokens" / "meta.json").exists()

    with pytest.raises(JobCancelled):
        run_tokenizer(tmp_path, config, ctx=InterruptingContext(tmp_path, after=2, action="cancel", attempt=2))
    state = json.loads(state_file.read_text())
    assert len(state["parts"]) == 5 and not state["complete"]
    assert (tmp_path / "tokenizer" / "tokenizer.json").is_file()
    assert not (tmp_path / "tokens" / "meta.json").exists()

    resumed = run_tokenizer(tmp_path, config, ctx=LocalContext(tmp_path, attempt=3, show_progress=False))
    assert resumed.result.summary["tokenizer_reused"] is True
    assert resumed.result.summary["parts_resumed"] == 5
    assert "resuming" in (tmp_path / "run.log").read_text()
    uninterrupted = trained(algorithm="bpe")
    for name in ("tokenizer", "tokens"):
        assert folder_bytes(tmp_path / name) == folder_bytes(uninterrupted.folder / name), name
    assert resumed.report["evaluation"] == uninterrupted.report["evaluation"]

    again = run_tokenizer(tmp_path, config, ctx=LocalContext(tmp_path, attempt=4, show_progress=False))
    assert again.result.summary == resumed.result.summary
    assert again.report == resumed.report
    assert "finished every stage" in (tmp_path / "run.log").read_text()


def test_tokenizer_only_run_reports_without_writing_shards(trained, prepared_dataset):
    run = trained(algorithm="wordpiece", write_token_shards=False)
    assert [a.kind for a in run.result.artifacts] == ["tokenizer"]
    assert not (run.folder / "tokens").exists()
    assert run.report["evaluation"]["documents"] == len(split_documents(prepared_dataset, "validation"))
    assert run.result.summary["splits"] == {}


def test_first_attempt_in_a_used_folder_starts_over(tmp_path):
    from training.tokenization.resume import STATE_FILE, RunState

    (tmp_path / "tokenizer").mkdir()
    (tmp_path / "tokens").mkdir()
    (tmp_path / STATE_FILE).write_text(json.dumps({"fingerprint": "f", "tokenizer": {"x": 1}, "parts": {"a": {}}}))
    lines = []
    kept = RunState.begin(tmp_path, "f", resume=True, log=lines.append)
    assert kept.parts == {"a": {}} and (tmp_path / "tokenizer").exists()
    changed = RunState.begin(tmp_path, "g", resume=True, log=lines.append)
    assert changed.parts == {} and changed.tokenizer is None and not (tmp_path / "tokenizer").exists()
    (tmp_path / "tokens").mkdir()
    fresh = RunState.begin(tmp_path, "g", resume=False, log=lines.append)
    assert fresh.parts == {} and not (tmp_path / "tokens").exists()
    assert any("config or input changed" in line for line in lines)
