"""Reading every kind of source: local formats, bad files, a Hugging Face dataset builder, installed packages."""

import json

import pytest

from training.configs import ConfigError
from training.corpus.config import SourceConfig
from training.corpus.documents import CorpusError
from training.corpus.executor import InlineExecutor
from training.corpus.sources import check_sources, iter_documents
from training.corpus.sources.pydocs import plan

INLINE = InlineExecutor(lambda: None, ())


def read(*sources: SourceConfig):
    return list(iter_documents(list(sources), INLINE))


def test_local_formats_in_a_stable_order(corpus_dir):
    docs = read(SourceConfig(type="files", path=str(corpus_dir), text_field="body", formats=["txt", "md", "jsonl"]))
    ids = [d.id for d in docs]
    assert ids == [
        "files:corpus/a.txt",
        "files:corpus/b.md",
        "files:corpus/d.jsonl:1",  # line numbers, unless id_field names the ids
        "files:corpus/d.jsonl:2",
        "files:corpus/d.jsonl:3",
        "files:corpus/d.jsonl:4",
        "files:corpus/nested/c.txt",
    ]
    assert read(SourceConfig(type="files", path=str(corpus_dir / "d.jsonl"), text_field="body", id_field="id"))[
        0
    ].id.endswith(":row0")


def test_parquet_column_and_ids(corpus_dir):
    docs = read(
        SourceConfig(type="files", path=str(corpus_dir / "e.parquet"), text_field="content", id_field="key", name="p")
    )
    assert [d.id for d in docs] == ["p/e.parquet:g", "p/e.parquet:h"]  # the null row is skipped
    assert all(d.source == "p" for d in docs)


def test_formats_filter_and_document_limit(corpus_dir):
    docs = read(SourceConfig(type="files", path=str(corpus_dir), formats=["md", "txt"], max_documents=2))
    assert [d.id.rsplit("/", 1)[-1] for d in docs] == ["a.txt", "b.md"]


def test_labels_stay_unique(corpus_dir):
    src = SourceConfig(type="files", path=str(corpus_dir / "a.txt"))
    docs = read(src, src)
    assert [d.source for d in docs] == ["files:a.txt", "files:a.txt#2"]
    assert docs[0].id != docs[1].id


def test_missing_path_names_the_field(tmp_path):
    with pytest.raises(ConfigError) as err:
        check_sources([SourceConfig(type="pydocs"), SourceConfig(type="files", path=str(tmp_path / "nope"))])
    assert err.value.field == "sources[1].path" and "does not exist" in str(err.value)


def test_non_utf8_and_binary_files(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("café crème".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1\.txt is not UTF-8.*on_decode_error"):
        read(SourceConfig(type="files", path=str(tmp_path)))
    assert read(SourceConfig(type="files", path=str(tmp_path), on_decode_error="skip")) == []
    replaced = read(SourceConfig(type="files", path=str(tmp_path), on_decode_error="replace"))
    assert replaced[0].text == "caf\ufffd cr\ufffdme"
    (tmp_path / "latin1.txt").unlink()
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01binary\x00")
    with pytest.raises(CorpusError, match="looks binary"):
        read(SourceConfig(type="files", path=str(tmp_path)))


def test_bad_jsonl_rows(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "fine"}\n{"body": "no text field"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"rows\.jsonl:2 has no string field 'text'"):
        read(SourceConfig(type="files", path=str(path)))
    path.write_text('{"text": "fine"}\nnot json\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"rows\.jsonl:2 is not valid JSON"):
        read(SourceConfig(type="files", path=str(path)))
    assert len(read(SourceConfig(type="files", path=str(path), on_decode_error="skip"))) == 1


def test_parquet_without_the_column(corpus_dir):
    with pytest.raises(CorpusError, match="has no column 'text'"):
        read(SourceConfig(type="files", path=str(corpus_dir / "e.parquet")))


def test_hugging_face_dataset_builder_on_local_files(tmp_path):
    pytest.importorskip("datasets")
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps({"content": f"text {i}", "uid": f"u{i}"}) for i in range(3)), encoding="utf-8")
    src = SourceConfig(type="hf", dataset="json", data_files=[str(path)], text_field="content", id_field="uid")
    docs = read(src)
    assert [(d.id, d.text) for d in docs] == [(f"hf:json:train/u{i}", f"text {i}") for i in range(3)]
    with pytest.raises(CorpusError, match="has no field 'missing'"):
        read(SourceConfig(type="hf", dataset="json", data_files=[str(path)], text_field="missing"))
    with pytest.raises(CorpusError, match="could not be loaded"):
        read(SourceConfig(type="hf", dataset=str(tmp_path / "no-such-dataset")))


def test_pydocs_reads_installed_documentation_deterministically():
    src = SourceConfig(type="pydocs", packages=["json", "better-profanity"], max_bytes=0)
    units = plan(src, "sources[0]")
    assert {u.group for u in units} == {"stdlib/json", "pkg/better-profanity"}
    assert units[0].group != units[1].group  # round-robin over packages
    docs = read(src)
    again = read(src)
    assert [d.id for d in docs] == [d.id for d in again] and [d.text for d in docs] == [d.text for d in again]
    decoder = next(d for d in docs if d.id == "pydocs/stdlib/json/json.decoder")
    assert decoder.text.startswith("module json.decoder\n\nImplementation of JSONDecoder")
    assert "class json.decoder.JSONDecoder" in decoder.text
    assert any(d.id.endswith("/METADATA") for d in docs)  # the distribution's long description


def test_pydocs_budgets():
    docs = read(SourceConfig(type="pydocs", packages=["json", "email"], max_bytes=30_000))
    assert 0 < sum(len(d.text.encode()) for d in docs) <= 30_000
    capped = read(SourceConfig(type="pydocs", packages=["json", "email"], max_bytes=0, max_bytes_per_package=20_000))
    for group in ("json", "email"):
        assert sum(len(d.text.encode()) for d in capped if f"/stdlib/{group}/" in d.id) <= 20_000
    with pytest.raises(ConfigError) as err:
        plan(SourceConfig(type="pydocs", packages=["no-such-package-xyz"]), "sources[0]")
    assert err.value.field == "sources[0].packages"


def test_jsonl_with_a_byte_order_mark_and_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "first"}\n{"text": "caf\xe9"}\n{"text": "last"}\n')
    with pytest.raises(CorpusError, match="is not UTF-8"):
        read(SourceConfig(type="files", path=str(path)))
    assert [d.text for d in read(SourceConfig(type="files", path=str(path), on_decode_error="skip"))] == [
        "first",
        "last",
    ]
    replaced = read(SourceConfig(type="files", path=str(path), on_decode_error="replace"))
    assert [d.text for d in replaced] == ["first", "caf\ufffd", "last"]
