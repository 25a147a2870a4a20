"""Artifact pages: downloads (files, folders as zip, traversal blocked), lineage, tokenizer comparison."""

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from training.models import Artifact, Job, JobStatus
from training.services import job_launch

pytestmark = pytest.mark.django_db


def _html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


# --- artifacts and downloads ----------------------------------------------------------------------------------------


def _folder_artifact(settings, name="data", parents=()) -> Artifact:
    folder = Path(settings.ARTIFACTS_ROOT) / "jobs" / name
    (folder / "shards").mkdir(parents=True)
    (folder / "manifest.json").write_text('{"rows": 2}')
    (folder / "shards" / "part-0.txt").write_text("hello\n" * 1000)
    artifact = Artifact.objects.create(
        kind="dataset", name=name, path=f"jobs/{name}", size_bytes=6011, sha256="ab" * 32
    )
    artifact.parents.set(parents)
    return artifact


def test_download_file_and_folder_zip(staff, settings):
    artifact = _folder_artifact(settings)
    url = reverse("training:artifact-download", args=[artifact.pk])
    resp = staff.get(url, {"path": "shards/part-0.txt"})
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    assert b"".join(resp.streaming_content) == b"hello\n" * 1000
    resp = staff.get(url)
    assert resp["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))
    assert sorted(archive.namelist()) == ["manifest.json", "shards/part-0.txt"]
    assert archive.read("shards/part-0.txt") == b"hello\n" * 1000 and archive.testzip() is None
    sub = zipfile.ZipFile(io.BytesIO(b"".join(staff.get(url, {"path": "shards"}).streaming_content)))
    assert sub.namelist() == ["part-0.txt"]


def test_download_blocks_path_traversal_and_symlinks_out(staff, settings, tmp_path):
    artifact = _folder_artifact(settings)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (Path(settings.ARTIFACTS_ROOT) / "jobs" / "sibling.txt").write_text("not part of the artifact")
    (artifact.absolute_path / "escape.txt").symlink_to(secret)
    url = reverse("training:artifact-download", args=[artifact.pk])
    for bad in [
        "../sibling.txt",
        "../../../secret.txt",
        str(secret),
        "shards/../../sibling.txt",
        "escape.txt",
        "a\x00b",
    ]:
        resp = staff.get(url, {"path": bad})
        assert resp.status_code == 404, bad
    archive = zipfile.ZipFile(io.BytesIO(b"".join(staff.get(url).streaming_content)))
    assert "escape.txt" not in archive.namelist()
    # A row whose path points outside ARTIFACTS_ROOT (never registered by the service) serves nothing either.
    rogue = Artifact.objects.create(kind="dataset", name="rogue", path=str(tmp_path), sha256="0")
    assert staff.get(reverse("training:artifact-download", args=[rogue.pk])).status_code == 404
    assert staff.get(reverse("training:artifact-download", args=[rogue.pk]), {"path": "secret.txt"}).status_code == 404


def test_artifact_page_shows_lineage_files_and_consumers(staff, settings):
    corpus = _folder_artifact(settings, "corpus")
    dataset = _folder_artifact(settings, "dataset", parents=[corpus])
    extra = _folder_artifact(settings, "extra", parents=[corpus])
    tokenizer = _folder_artifact(settings, "tokenizer", parents=[dataset, extra])
    consumer = job_launch(kind="test_steps", config={})
    consumer.inputs.add(tokenizer)
    html = _html(staff.get(reverse("training:artifact-detail", args=[tokenizer.pk])))
    for parent in (dataset, extra, corpus):
        assert reverse("training:artifact-detail", args=[parent.pk]) in html
    assert html.count('<ul class="lineage">') == 3  # tokenizer → {dataset → corpus, extra → (corpus, shown above)}
    assert "(shown above)" in html
    assert "shards/part-0.txt" in html and "?path=shards/part-0.txt" in html
    html = _html(staff.get(reverse("training:artifact-detail", args=[corpus.pk])))
    assert "No recorded parents" in html
    assert reverse("training:artifact-detail", args=[dataset.pk]) in html  # used by
    html = _html(staff.get(reverse("training:artifact-detail", args=[tokenizer.pk])))
    assert reverse("training:job-detail", args=[consumer.pk]) in html


# --- tokenizer comparison -------------------------------------------------------------------------------------------


def _tokenizer_job(algorithm: str, vocab: int, chars_per_token: float) -> Job:
    report = {
        "format": "plumbline.tokenizer_report/1",
        "tokenizer": {"algorithm": algorithm, "vocab_size": vocab},
        "dataset": {"fingerprint": "same"},
        "evaluation": {"split": "validation", "chars_per_token": chars_per_token, "unk_rate": 0.0},
        "samples": [{"id": "d1", "text": "Hello world", "tokens": ["Hel", "lo", " world"], "n_tokens": 3}],
    }
    return Job.objects.create(
        kind="train_tokenizer",
        status=JobStatus.SUCCEEDED,
        config={"algorithm": algorithm, "vocab_size": vocab},
        result={"reports": {"tokenizer_report": report}},
    )


def test_tokenizer_comparison(staff):
    bpe = _tokenizer_job("bpe", 2048, 3.5)
    unigram = _tokenizer_job("unigram", 4096, 4.25)
    other = job_launch(kind="test_steps", config={})
    url = reverse("training:tokenizer-compare")
    html = _html(staff.get(url, {"ids": f"{bpe.pk},{unigram.pk},{other.pk}"}))
    assert 'id="compare-table"' in html
    assert f"#{bpe.pk} bpe 2048" in html and f"#{unigram.pk} unigram 4096" in html
    assert '<td class="num best">4.25</td>' in html  # higher characters per token is better
    assert 'id="missing"' in html and str(other.pk) in html
    assert '<span class="chip-token"> world</span>' in html
    html = _html(staff.get(url, {"ids": [bpe.pk, unigram.pk]}))
    assert 'id="compare-table"' in html
    assert staff.get(url, {"ids": "1,abc"}).status_code == 400
    html = _html(staff.get(url))
    assert 'id="compare-form"' in html and f'value="{bpe.pk}"' in html


# --- in a real Chromium -------------------------------------------------------------------------------------------
