import orjson
import pytest

from annotation.models import PreferencePair, Task
from annotation.services import judgment_submit, task_assign_next

from .factories import EngineerFactory, seeded_project

pytestmark = pytest.mark.django_db


def test_import_assign_judge_export(api_client):
    project, (alice, bob) = seeded_project(n=3, k=2, overlap=2, task_kinds=["comparison"])
    assert Task.objects.filter(project=project).count() == 3
    a = task_assign_next(project=project, annotator=alice, kind="comparison")
    judgment, created = judgment_submit(task_id=a.task_id, annotator=alice, ranking=a.display_order)
    assert created
    b = task_assign_next(project=project, annotator=bob, kind="comparison")
    assert b is not None
    assert PreferencePair.objects.count() == 1
    api_client.force_authenticate(EngineerFactory())
    r = api_client.get(f"/api/v1/projects/{project.pk}/export/preferences/?format=jsonl")
    assert r.status_code == 200, r.content
    rows = [orjson.loads(line) for line in b"".join(r.streaming_content).splitlines()]
    assert len(rows) == 1 and set(rows[0]) >= {"prompt", "chosen", "rejected"}
