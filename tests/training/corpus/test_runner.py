"""The prepare_corpus runner end to end: pydocs and local files in, a parquet dataset and its manifest out;
deterministic across runs and worker counts; resumable after a kill; cancellable between shards."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.training.corpus.conftest import prose
from training.configs import ConfigError, from_dict, json_schema
from training.corpus.documents import CorpusError
from training.corpus.shards import SCHEMA, file_sha256
from training.runners.base import JobCancelled
from training.runners.cli import LocalContext
from training.runners.prepare_corpus import PrepareCorpusConfig, run

REPO = Path(__file__).resolve().parents[3]
PYDOCS = {"type": "pydocs", "packages": ["json", "email", "textwrap", "argparse", "logging"], "max_bytes": 500_000}


def config(**overrides) -> PrepareCorpusConfig:
    data = {"sources": [PYDOCS], "workers": 1, "shard_size": 8, **overrides}
    return from_dict(PrepareCorpusConfig, data)


def run_in(folder: Path, cfg: PrepareCorpusConfig, *, attempt: int = 1):
    ctx = LocalContext(folder, attempt=attempt, show_progress=False)
    try:
        return run(cfg, ctx), ctx
    finally:
        ctx.close()


def manifest(folder: Path) -> dict:
    return json.loads((folder / "dataset" / "manifest.json").read_text())


def read_split(folder: Path, split: str) -> pa.Table:
    info = manifest(folder)["splits"][split]
    return pa.concat_tables([pq.read_table(folder / "dataset" / name) for name in info["shards"]])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """One uninterrupted in-process run of the standard config, which the other runs must reproduce byte for byte."""
    folder = tmp_path_factory.mktemp("baseline") / "job"
    result, ctx = run_in(folder, config())
    return folder, result, ctx


def test_pydocs_run_produces_the_dataset_contract(baseline):
    folder, result, ctx = baseline
    data = manifest(folder)
    assert data["format"] == "plumbline.dataset/1"
    assert [row["step"] for row in data["funnel"]] == [
        "read", "normalize", "length", "language", "gopher_quality", "gopher_repetition", "pii", "harmful",
        "exact_dedup", "near_dup",
    ]  # fmt: skip
    for before, after in zip(data["funnel"], data["funnel"][1:], strict=False):
        assert after["documents_in"] == before["documents_out"] and after["bytes_in"] == before["bytes_out"]
        assert after["documents_out"] <= after["documents_in"]
    assert 0 < data["funnel"][0]["bytes_in"] <= 500_000
    assert (
        data["funnel"][-1]["documents_out"] == data["documents"] == sum(s["documents"] for s in data["splits"].values())
    )
    assert data["config"]["sources"][0]["packages"] == PYDOCS["packages"]
    ids = set()
    for split in ("train", "validation", "test"):
        for name in data["splits"][split]["shards"]:
            assert name.startswith(f"{split}-") and name.endswith(".parquet")
            table = pq.read_table(folder / "dataset" / name)
            assert table.schema.equals(SCHEMA, check_metadata=False)
            rows = table.to_pylist()
            assert all(
                r["split"] == split and r["n_chars"] == len(r["text"]) and 0 <= r["difficulty"] <= 1 for r in rows
            )
            ids |= {r["id"] for r in rows}
    assert len(ids) == data["documents"]
    digest = None
    for split in ("train", "validation", "test"):
        for name in data["splits"][split]["shards"]:
            digest = file_sha256(folder / "dataset" / name, digest)
    assert digest.hexdigest() == data["sha256"]
    assert result.artifacts[0].kind == "dataset" and result.artifacts[0].path == folder / "dataset"
    assert result.summary["sha256"] == data["sha256"] and result.summary["documents"] == data["documents"]
    assert ctx.reports["funnel"] == data["funnel"]
    assert "gopher_quality" in ctx.reports["samples"]
    assert all(len(s["text"]) <= 500 for samples in ctx.reports["samples"].values() for s in samples)
    assert not (folder / "work").exists()  # the resume state goes once the dataset is complete
    assert "dataset corpus-" in (folder / "run.log").read_text()
    assert any(point[1] == "documents_read" for point in ctx.metric_points)


def test_same_output_with_a_worker_pool(tmp_path, baseline):
    folder, first, _ = baseline
    pooled, _ = run_in(tmp_path / "pool", config(workers=2))
    assert pooled.summary["sha256"] == first.summary["sha256"]
    for split in ("train", "validation", "test"):
        assert read_split(folder, split).equals(read_split(tmp_path / "pool", split))


def test_local_files_dedup_pii_and_harmful_flags(tmp_path, corpus_dir):
    text = prose("astronomy")
    words = text.split(" ")
    words[40], words[120] = "changed", "edited"  # two words in ~330: Jaccard ~0.94
    (corpus_dir / "near.txt").write_text(" ".join(words), encoding="utf-8")
    (corpus_dir / "contact.txt").write_text(prose("contact") + "\n\nWrite to jane.doe@example.org.", encoding="utf-8")
    rude = " ".join(["damn", "shit", "crap", "bastard"] * 3)
    (corpus_dir / "rude.txt").write_text(prose("rudeness") + "\n\n" + rude, encoding="utf-8")
    cfg = from_dict(
        PrepareCorpusConfig,
        {
            "sources": [
                {"type": "files", "path": str(corpus_dir), "formats": ["txt", "md", "jsonl"], "text_field": "body"},
                {"type": "files", "path": str(corpus_dir / "e.parquet"), "text_field": "content", "name": "tables"},
            ],
            "workers": 1,
            "shard_size": 3,
            "split": {"train": 1.0, "validation": 0.0, "test": 0.0},
        },
    )
    _, ctx = run_in(tmp_path / "job", cfg)
    rows = {r["id"]: r for r in read_split(tmp_path / "job", "train").to_pylist()}
    assert "files:corpus/d.jsonl:4" not in rows  # exact duplicate of a.txt
    assert "files:corpus/near.txt" not in rows  # near duplicate of a.txt
    assert {"files:corpus/a.txt", "tables/e.parquet:1", "tables/e.parquet:2"} <= set(rows)
    contact = rows["files:corpus/contact.txt"]
    assert contact["text"].endswith("Write to <EMAIL>.") and contact["flags"] == ["pii_redacted"]
    assert rows["files:corpus/rude.txt"]["flags"] == ["harmful"]
    assert rows["files:corpus/a.txt"]["flags"] == []
    samples = ctx.reports["samples"]
    assert samples["near_dup"][0]["duplicate_of"] == "files:corpus/a.txt"
    assert samples["near_dup"][0]["similarity"] >= 0.8
    assert samples["exact_dedup"][0]["id"] == "files:corpus/d.jsonl:4"
    assert samples["pii"][0]["kinds"] == ["email"] and "<EMAIL>" in samples["pii"][0]["text"]
    funnel = {row["step"]: row for row in ctx.reports["funnel"]}
    assert funnel["pii"]["details"] == {"email": 1} and funnel["harmful"]["details"] == {"flagged": 1}
    assert funnel["pii"]["bytes_out"] < funnel["pii"]["bytes_in"]


def test_harmful_drop_and_disabled_steps_leave_the_funnel(tmp_path, corpus_dir):
    rude = " ".join(["damn", "shit", "crap", "bastard"] * 3) + "."  # a sentence, so C4's line rules keep it
    (corpus_dir / "rude.txt").write_text(prose("rudeness") + "\n\n" + rude, encoding="utf-8")
    cfg = from_dict(
        PrepareCorpusConfig,
        {
            "sources": [{"type": "files", "path": str(corpus_dir), "formats": ["txt"]}],
            "workers": 1,
            "harmful": {"action": "drop"},
            "language": {"enabled": False},
            "near_dup": {"enabled": False},
            "c4": {"enabled": True, "min_sentences": 1},
        },
    )
    _, ctx = run_in(tmp_path / "job", cfg)
    steps = [row["step"] for row in ctx.reports["funnel"]]
    assert "language" not in steps and "near_dup" not in steps and "c4" in steps
    assert {row["step"]: row for row in ctx.reports["funnel"]}["harmful"]["removed_by"] == {"harmful": 1}


_KILLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from training.configs import from_dict
    from training.runners.cli import LocalContext
    from training.runners.prepare_corpus import PrepareCorpusConfig, run

    class DiesAfterTwoShards(LocalContext):
        shards = 0
        def metrics(self, step, values):
            super().metrics(step, values)
            self.shards += 1
            if self.shards == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    if __name__ == "__main__":  # the worker pool spawns processes that import this file
        cfg = from_dict(PrepareCorpusConfig, json.loads(sys.argv[2]))
        run(cfg, DiesAfterTwoShards(Path(sys.argv[1]), show_progress=False))
    """
)


def test_resume_after_sigkill_gives_identical_output(tmp_path, baseline):
    data = {"sources": [PYDOCS], "workers": 2, "shard_size": 8}
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    folder = tmp_path / "killed"
    proc = subprocess.run(
        [sys.executable, str(script), str(folder), json.dumps(data)], cwd=REPO, capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -9, proc.stderr  # and its workers followed it (else the pipes would stay open)
    state = json.loads((folder / "work" / "progress.json").read_text())
    assert state["shards_done"] == 2 and not (folder / "dataset").exists()
    resumed, _ = run_in(folder, config(), attempt=2)  # in this process, one worker: the output must not change
    assert "resuming after 2 committed shards" in (folder / "run.log").read_text()
    assert resumed.summary["sha256"] == baseline[1].summary["sha256"]
    assert manifest(folder)["funnel"] == manifest(baseline[0])["funnel"]


def test_crash_between_shard_commit_and_state_save(tmp_path, monkeypatch, baseline):
    from training.corpus import pipeline

    saves = {"n": 0}
    original = pipeline.RunState.save

    def flaky_save(self, work):
        saves["n"] += 1
        if saves["n"] == 3:  # the initial save, then shard 1; shard 2's rows are on disk, its state is not
            raise OSError("disk went away")
        original(self, work)

    monkeypatch.setattr(pipeline.RunState, "save", flaky_save)
    with pytest.raises(OSError):
        run_in(tmp_path / "job", config())
    monkeypatch.setattr(pipeline.RunState, "save", original)
    resumed, _ = run_in(tmp_path / "job", config(), attempt=2)
    assert resumed.summary["sha256"] == baseline[1].summary["sha256"]


class CancelAfterFirstShard(LocalContext):
    def metrics(self, step, values):
        super().metrics(step, values)
        self.cancel_event.set()


def test_cancel_stops_between_shards_and_resume_finishes(tmp_path, baseline):
    folder = tmp_path / "job"
    ctx = CancelAfterFirstShard(folder, show_progress=False)
    with pytest.raises(JobCancelled):
        run(config(), ctx)
    ctx.close()
    assert json.loads((folder / "work" / "progress.json").read_text())["shards_done"] == 1
    assert not (folder / "dataset").exists()
    resumed, _ = run_in(folder, config(), attempt=2)
    assert resumed.summary["sha256"] == baseline[1].summary["sha256"]


def test_attempt_after_success_returns_the_dataset_and_a_changed_config_starts_over(tmp_path):
    first, _ = run_in(tmp_path / "job", config())
    again, ctx = run_in(tmp_path / "job", config(), attempt=2)
    assert again.summary["sha256"] == first.summary["sha256"] and "samples" in ctx.reports
    changed, _ = run_in(tmp_path / "job", config(split={"train": 0.5, "validation": 0.25, "test": 0.25}), attempt=3)
    assert changed.summary["sha256"] != first.summary["sha256"]


def test_empty_corpus_after_filtering_is_a_clear_error(tmp_path, corpus_dir):
    cfg = from_dict(
        PrepareCorpusConfig,
        {"sources": [{"type": "files", "path": str(corpus_dir), "formats": ["txt"]}], "workers": 1,
         "length": {"min_chars": 1_000_000}},
    )  # fmt: skip
    with pytest.raises(CorpusError, match=r"no documents left after filtering \(.*length 0"):
        run_in(tmp_path / "job", cfg)
    assert not (tmp_path / "job" / "dataset").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sources": []}, "sources"),
        ({"sources": [{"type": "files"}]}, "sources[0].path"),
        ({"sources": [{"type": "hf"}]}, "sources[0].dataset"),
        ({"sources": [{"type": "files", "path": "x", "formats": ["pdf"]}]}, "sources[0].formats"),
        ({"sources": [{"type": "ftp"}]}, "sources[0].type"),
        ({"near_dup": {"bands": 10}}, "near_dup.num_perm"),
        ({"near_dup": {"threshold": 1.5}}, "near_dup.threshold"),
        ({"split": {"train": 0.5}}, "split.train"),
        ({"shard_size": 0}, "shard_size"),
        ({"length": {"min_chars": 10, "max_chars": 5}}, "length.max_chars"),
        ({"language": {"languages": []}}, "language.languages"),
        (
            {"gopher_repetition": {"max_top_ngram_char_fraction": {"two": 0.2}}},
            "gopher_repetition.max_top_ngram_char_fraction",
        ),
        ({"pii": {"types": ["ssn"]}}, "pii.types"),
        ({"harmful": {"detector": "classifier"}}, "harmful.model_path"),
        ({"workers": -1}, "workers"),
    ],
)
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as err:
        from_dict(PrepareCorpusConfig, data)
    assert err.value.field == field


def test_minimal_config_and_schema():
    cfg = from_dict(PrepareCorpusConfig, {"sources": [{"type": "pydocs"}]})
    assert cfg.near_dup.num_perm == 112 and cfg.near_dup.bands == 14 and cfg.near_dup.rows == 8
    assert cfg.gopher_quality.min_words == 50 and cfg.sources[0].max_bytes == 20_000_000
    assert from_dict(PrepareCorpusConfig, {}).sources[0].type == "pydocs"
    schema = json_schema(PrepareCorpusConfig)
    assert schema["properties"]["near_dup"]["properties"]["threshold"]["default"] == 0.8
    assert schema["properties"]["sources"]["items"]["properties"]["type"]["enum"] == ["files", "hf", "pydocs"]
    assert all("description" in p for p in schema["properties"].values())


def test_runner_module_stays_light():
    code = (
        "import sys; import training.runners.prepare_corpus as m; "
        "heavy = ('numpy', 'pyarrow', 'datasketch', 'torch', 'transformers', 'datasets'); "
        "print([n for n in heavy if n in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_command_line(tmp_path, corpus_dir):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"sources:\n  - type: files\n    path: {corpus_dir}\n    formats: [txt, md]\nworkers: 1\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "training.runners.prepare_corpus", "--config", str(cfg), "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout[proc.stdout.index("{\n") :])["artifacts"] == [str(out / "dataset")]
    assert manifest(out)["documents"] == 3
    cfg.write_text("sources:\n  - type: files\n")
    proc = subprocess.run(
        [sys.executable, "-m", "training.runners.prepare_corpus", "--config", str(cfg), "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "sources[0].path" in proc.stderr
