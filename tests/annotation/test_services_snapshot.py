"""snapshot_freeze: an immutable, hashed file under ARTIFACTS_ROOT; the same filters over unchanged data, the same
snapshot; changed data, a new hash."""

import hashlib

import orjson
import pytest

from annotation.models import DatasetSnapshot
from annotation.selectors.export import PreferenceFilters, SftFilters, preference_rows
from annotation.services import demonstration_review, snapshot_freeze

from .factories import ProjectFactory, demonstrate, import_records, judge, member, prompt_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = ProjectFactory(task_kinds=["comparison", "demonstration"], split_ratios={"train": 0.5, "test": 0.5})
    import_records(project, prompt_records(8, k=2))
    user = member(project)
    for _ in range(6):
        judge(project, user)
    return project


def _freeze(project, **filters):
    return snapshot_freeze(project=project, kind="preferences", filters=PreferenceFilters(**filters))


def test_freeze_writes_a_file_whose_sha256_and_counts_match(project, settings):
    snapshot, created = _freeze(project)
    assert created
    path = settings.ARTIFACTS_ROOT / snapshot.path
    assert path == snapshot.absolute_path and path.is_file()
    assert path.resolve().is_relative_to(settings.ARTIFACTS_ROOT.resolve())
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == snapshot.sha256 == snapshot.manifest["sha256"]
    assert snapshot.size_bytes == len(data) == snapshot.manifest["size_bytes"]
    rows = [orjson.loads(line) for line in data.splitlines()]
    assert rows == list(preference_rows(project=project, filters=PreferenceFilters()))
    assert snapshot.row_count == len(rows) == 6 == snapshot.manifest["row_count"]
    per_split = snapshot.manifest["rows_per_split"]
    assert sum(per_split.values()) == 6
    assert per_split == {s: sum(r["split"] == s for r in rows) for s in ("train", "validation", "test")}
    assert snapshot.manifest["filters"] == snapshot.filters == PreferenceFilters().as_dict()
    assert snapshot.manifest["project"] == {"id": project.pk, "name": project.name}
    assert snapshot.manifest["kind"] == "preferences" and snapshot.manifest["format"] == "jsonl"
    # no temporary files are left behind
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_same_filters_over_unchanged_data_give_the_same_snapshot(project):
    first, _ = _freeze(project, split="train")
    again, created = _freeze(project, split="train")
    assert not created and again.pk == first.pk and again.sha256 == first.sha256
    assert DatasetSnapshot.objects.count() == 1


def test_other_filters_give_another_snapshot(project):
    everything, _ = _freeze(project)
    train, created = _freeze(project, split="train")
    assert created and train.pk != everything.pk
    assert train.row_count == everything.manifest["rows_per_split"]["train"]
    conversational, created = _freeze(project, style="conversational")
    assert created and conversational.sha256 != everything.sha256


def test_the_same_rows_under_other_filters_share_the_hash_but_not_the_snapshot(project):
    lenient, _ = _freeze(project)
    strict, created = _freeze(project, min_agreement=0.5)  # every pair has agreement 1.0
    assert created and strict.pk != lenient.pk
    assert strict.sha256 == lenient.sha256
    assert strict.filters["min_agreement"] == 0.5


def test_changed_data_gives_a_new_hash(project):
    before, _ = _freeze(project)
    judge(project, member(project))
    after, created = _freeze(project)
    assert created and after.sha256 != before.sha256 and after.row_count == before.row_count + 1
    assert before.absolute_path.exists() and after.absolute_path.exists()
    assert hashlib.sha256(before.absolute_path.read_bytes()).hexdigest() == before.sha256


def test_snapshots_are_immutable(project):
    snapshot, _ = _freeze(project)
    snapshot.row_count = 999
    with pytest.raises(ValueError, match="immutable"):
        snapshot.save()
    assert DatasetSnapshot.objects.get(pk=snapshot.pk).row_count == 6


def test_a_missing_file_is_written_again(project):
    snapshot, _ = _freeze(project)
    snapshot.absolute_path.unlink()
    again, created = _freeze(project)
    assert created
    assert again.absolute_path.is_file()
    assert hashlib.sha256(again.absolute_path.read_bytes()).hexdigest() == snapshot.sha256


def test_an_empty_snapshot():
    project = ProjectFactory()
    snapshot, _ = _freeze(project)
    assert snapshot.row_count == 0 and snapshot.size_bytes == 0
    assert snapshot.sha256 == hashlib.sha256(b"").hexdigest()


def test_sft_snapshot():
    project = ProjectFactory(task_kinds=["demonstration"])
    import_records(project, prompt_records(3, k=1))
    writer, reviewer = member(project), member(project, "reviewer")
    for i in range(3):
        demo = demonstrate(project, writer, f"answer {i}")
        if i < 2:
            demonstration_review(demonstration_id=demo.pk, reviewer=reviewer, decision="accepted")
    snapshot, created = snapshot_freeze(project=project, kind="sft", filters=SftFilters())
    assert created and snapshot.kind == "sft" and snapshot.row_count == 2
    rows = [orjson.loads(line) for line in snapshot.absolute_path.read_bytes().splitlines()]
    assert [r["messages"][-1]["content"] for r in rows] == ["answer 0", "answer 1"]
    pending, _ = snapshot_freeze(project=project, kind="sft", filters=SftFilters(include_pending=True))
    assert pending.row_count == 3
