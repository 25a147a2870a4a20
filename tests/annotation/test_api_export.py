"""Export and snapshot endpoints: streamed JSONL and Parquet in the TRL shapes, loadable by ``datasets``; frozen
snapshots with manifest, stable hash and a download that returns the exact bytes."""

import hashlib
import io

import orjson
import pyarrow.parquet as pq
import pytest

from annotation.models import DatasetSnapshot, Prompt
from annotation.services import demonstration_review

from .factories import EngineerFactory, ProjectFactory, demonstrate, fix_order, import_records, judge, member

pytestmark = pytest.mark.django_db

CHAT = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello"},
    {"role": "user", "content": "2+2?"},
]


@pytest.fixture
def project():
    """Six prompts judged once each (one a conversation, one tied), three accepted demonstrations."""
    project = ProjectFactory(overlap=1, task_kinds=["comparison", "demonstration"], split_ratios={"train": 1.0})
    records = [{"id": f"q{i}", "prompt": f"Question {i}?", "responses": [f"good {i}", f"bad {i}"]} for i in range(5)]
    records.append({"id": "chat", "messages": CHAT, "responses": ["4", "5"]})
    import_records(project, records)
    Prompt.objects.filter(project=project, external_id__in=["q3", "q4"]).update(split="test")
    fix_order(project)
    annotator = member(project)
    for i in range(6):
        if i == 2:
            judge(project, annotator, lambda a: [sorted(a.task.response_ids)])  # a tie
        else:
            judge(project, annotator, strength="slight")
    reviewer = member(project, "reviewer")
    for i in range(4):
        demo = demonstrate(project, annotator, f"ideal {i}")
        if i < 3:
            demonstration_review(demonstration_id=demo.pk, reviewer=reviewer, decision="accepted")
    return project


@pytest.fixture
def client(api_client):
    api_client.force_authenticate(EngineerFactory())
    return api_client


def _get(client, project, kind: str, query: str = ""):
    response = client.get(f"/api/v1/projects/{project.pk}/export/{kind}/?{query}")
    assert response.status_code == 200, response.content
    return response


def _jsonl(response) -> list[dict]:
    assert response.streaming
    return [orjson.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_preferences_jsonl_is_streamed_in_the_standard_shape(client, project):
    response = _get(client, project, "preferences")
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == f'attachment; filename="preferences-{project.pk}.jsonl"'
    rows = _jsonl(response)
    assert [r["prompt_id"] for r in rows] == ["q0", "q1", "q3", "q4", "chat"]
    for row in rows:
        assert isinstance(row["prompt"], str) and isinstance(row["chosen"], str) and isinstance(row["rejected"], str)
    q0 = rows[0]
    assert (q0["prompt"], q0["chosen"], q0["rejected"]) == ("Question 0?", "good 0", "bad 0")
    assert q0["strength"] == 1.0 and q0["votes_chosen"] == 1


def test_preferences_conversational_shape(client, project):
    rows = _jsonl(_get(client, project, "preferences", "style=conversational"))
    chat = next(r for r in rows if r["prompt_id"] == "chat")
    assert chat["prompt"] == CHAT
    assert chat["chosen"] == [{"role": "assistant", "content": "4"}]
    assert chat["rejected"] == [{"role": "assistant", "content": "5"}]
    assert rows[0]["prompt"] == [{"role": "user", "content": "Question 0?"}]


def test_preferences_filters_over_http(client, project):
    assert [r["prompt_id"] for r in _jsonl(_get(client, project, "preferences", "split=test"))] == ["q3", "q4"]
    assert _jsonl(_get(client, project, "preferences", "split=validation")) == []
    with_ties = [r["prompt_id"] for r in _jsonl(_get(client, project, "preferences", "include_ties=true"))]
    assert "q2" in with_ties and len(with_ties) == 6
    assert len(_jsonl(_get(client, project, "preferences", "min_agreement=1"))) == 5
    assert len(_jsonl(_get(client, project, "preferences", "min_agreement=0.5&split=train"))) == 3


def test_parquet_has_the_same_rows(client, project):
    for style in ("standard", "conversational"):
        jsonl_rows = _jsonl(_get(client, project, "preferences", f"style={style}"))
        response = _get(client, project, "preferences", f"format=parquet&style={style}")
        assert response.streaming and response["Content-Type"] == "application/vnd.apache.parquet"
        assert response["Content-Disposition"].endswith('.parquet"')
        table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
        assert table.to_pylist() == jsonl_rows


def test_an_empty_parquet_export(client):
    empty = ProjectFactory()
    response = _get(client, empty, "preferences", "format=parquet")
    assert pq.read_table(io.BytesIO(b"".join(response.streaming_content))).num_rows == 0
    assert _jsonl(_get(client, empty, "preferences")) == []


def test_sft_exports(client, project):
    rows = _jsonl(_get(client, project, "sft"))
    assert len(rows) == 3
    assert rows[0]["messages"][-1] == {"role": "assistant", "content": "ideal 0"}
    assert rows[0]["messages"][:-1] == [{"role": "user", "content": "Question 0?"}]
    standard = _jsonl(_get(client, project, "sft", "style=standard"))
    assert next((r["prompt"], r["completion"]) for r in standard) == ("Question 0?", "ideal 0")
    assert len(_jsonl(_get(client, project, "sft", "include_pending=1"))) == 4
    assert [r["prompt_id"] for r in _jsonl(_get(client, project, "sft", "split=test"))] == []
    response = _get(client, project, "sft", "format=parquet")
    assert pq.read_table(io.BytesIO(b"".join(response.streaming_content))).to_pylist() == rows


def test_datasets_loads_the_exports(client, project, tmp_path):
    import datasets

    files = {
        "standard": _get(client, project, "preferences"),
        "conversational": _get(client, project, "preferences", "style=conversational"),
        "sft": _get(client, project, "sft"),
        "sft_standard": _get(client, project, "sft", "style=standard"),
    }
    loaded = {}
    for name, response in files.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"".join(response.streaming_content))
        loaded[name] = datasets.load_dataset(
            "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache")
        )
    standard = loaded["standard"]
    assert standard.num_rows == 5
    assert {"prompt", "chosen", "rejected"} <= set(standard.column_names)
    assert standard[0]["chosen"] == "good 0"
    conversational = loaded["conversational"]
    assert conversational.num_rows == 5
    assert conversational[4]["prompt"] == CHAT
    assert conversational[0]["chosen"] == [{"role": "assistant", "content": "good 0"}]
    assert loaded["sft"].num_rows == 3 and "messages" in loaded["sft"].column_names
    assert {"prompt", "completion"} <= set(loaded["sft_standard"].column_names)
    parquet = tmp_path / "p.parquet"
    parquet.write_bytes(b"".join(_get(client, project, "preferences", "format=parquet").streaming_content))
    from_parquet = datasets.load_dataset(
        "parquet", data_files=str(parquet), split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert from_parquet.num_rows == 5 and from_parquet[0]["prompt"] == "Question 0?"


# --- snapshots ------------------------------------------------------------------------------------------------


def _freeze(client, project, **body):
    return client.post(f"/api/v1/projects/{project.pk}/snapshots/", body, format="json")


def test_freeze_then_read_the_manifest_and_download(client, project, settings):
    response = _freeze(client, project, split="train")
    assert response.status_code == 201, response.content
    snap = response.json()
    assert snap["kind"] == "preferences" and snap["row_count"] == 3
    assert snap["filters"] == {"split": "train", "style": "standard", "min_agreement": None, "include_ties": False}
    assert snap["manifest"]["rows_per_split"] == {"train": 3, "validation": 0, "test": 0}
    path = settings.ARTIFACTS_ROOT / DatasetSnapshot.objects.get(pk=snap["id"]).path
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == snap["sha256"] and len(data) == snap["size_bytes"]

    detail = client.get(f"/api/v1/snapshots/{snap['id']}/")
    assert detail.status_code == 200 and detail.json() == snap
    assert snap["download_url"].endswith(f"/api/v1/snapshots/{snap['id']}/download/")

    download = client.get(f"/api/v1/snapshots/{snap['id']}/download/")
    assert download.status_code == 200
    assert download["ETag"] == f'"{snap["sha256"]}"'
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == data

    listed = client.get(f"/api/v1/projects/{project.pk}/snapshots/")
    assert [s["id"] for s in listed.json()] == [snap["id"]]


def test_refreezing_unchanged_data_returns_the_same_snapshot(client, project):
    first = _freeze(client, project)
    second = _freeze(client, project)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and first.json()["sha256"] == second.json()["sha256"]
    assert DatasetSnapshot.objects.count() == 1


def test_changed_data_freezes_a_new_hash(client, project):
    first = _freeze(client, project).json()
    import_records(project, [{"id": "late", "prompt": "Late?", "responses": ["yes", "no"]}])
    judge(project, member(project))
    second = _freeze(client, project)
    assert second.status_code == 201
    assert second.json()["sha256"] != first["sha256"] and second.json()["row_count"] == first["row_count"] + 1


def test_sft_snapshot_over_http(client, project):
    response = _freeze(client, project, kind="sft", include_pending=True)
    assert response.status_code == 201 and response.json()["row_count"] == 4
    assert response.json()["filters"] == {"split": None, "style": "conversational", "include_pending": True}


def test_download_of_a_missing_file_is_a_json_404(client, project):
    snap = _freeze(client, project).json()
    DatasetSnapshot.objects.get(pk=snap["id"]).absolute_path.unlink()
    response = client.get(f"/api/v1/snapshots/{snap['id']}/download/")
    assert response.status_code == 404 and response.json()["code"] == "file_missing"
