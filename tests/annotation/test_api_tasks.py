"""Serving tasks and taking judgments, demonstrations, skips and reviews over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.models import Assignment, Demonstration, Judgment, Task

from .factories import EngineerFactory, ProjectFactory, UserFactory, import_records, member, seeded_project

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _next(client, project, kind="comparison", **params):
    query = "&".join(f"{k}={v}" for k, v in {"kind": kind, **params}.items())
    return client.get(f"/api/v1/projects/{project.pk}/tasks/next/?{query}")


def _judge(client, task_id, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/tasks/{task_id}/judgments/", body, format="json", **headers)


def test_next_task_shape_and_display_order():
    project, (alice, _) = seeded_project(n=2, k=3, task_kinds=["comparison"])
    client = _client(alice)
    response = _next(client, project)
    assert response.status_code == 200
    task = response.json()
    assert set(task) == {"id", "kind", "project", "prompt", "responses", "expires_at"}
    assert task["kind"] == "comparison" and task["project"] == project.pk
    assert task["prompt"].startswith("Question p")
    db_task = Task.objects.get(pk=task["id"])
    assert sorted(r["id"] for r in task["responses"]) == sorted(db_task.response_ids)
    assert all(set(r) == {"id", "text"} for r in task["responses"])
    assignment = Assignment.objects.get(task=db_task, annotator=alice)
    assert [r["id"] for r in task["responses"]] == assignment.display_order
    texts = dict(db_task.responses.values_list("pk", "text"))
    assert all(r["text"] == texts[r["id"]] for r in task["responses"])
    assert _next(client, project).json() == task  # a reload serves the same lease


def test_conversation_tasks_carry_messages():
    project = ProjectFactory(task_kinds=["comparison"])
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hey"},
        {"role": "user", "content": "?"},
    ]
    import_records(project, [{"messages": messages, "responses": ["a", "b"]}])
    task = _next(_client(member(project)), project).json()
    assert task["messages"] == messages and "prompt" not in task


def test_gold_status_is_never_revealed():
    project = ProjectFactory(task_kinds=["comparison"], gold_ratio=1.0)
    import_records(project, [{"prompt": "g", "responses": ["a", "b"], "gold": {"ranking": [0, 1]}}])
    body = _next(_client(member(project)), project).json()
    assert "gold" not in str(body).lower()


def test_html_rendering_is_escaped():
    project = ProjectFactory(task_kinds=["comparison"])
    import_records(
        project, [{"prompt": "<script>alert(1)</script> **bold**", "responses": ["<img src=x onerror=1>", "`code`"]}]
    )
    task = _next(_client(member(project)), project, render="html").json()
    html = task["messages_html"][0]["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "<strong>bold</strong>" in html
    rendered = " ".join(r["html"] for r in task["responses"])
    assert "<img" not in rendered and "<code>code</code>" in rendered
    assert task["prompt"] == "<script>alert(1)</script> **bold**"  # the raw text stays raw


def test_demonstration_kind():
    project, (alice, _) = seeded_project(n=1, k=2, task_kinds=["demonstration"])
    task = _next(_client(alice), project, kind="demonstration").json()
    assert task["kind"] == "demonstration"
    assert task["responses"] == []  # nothing to rank
    prompt_responses = Task.objects.get(pk=task["id"]).prompt.responses.values_list("pk", "text")
    assert sorted((c["id"], c["text"]) for c in task["candidates"]) == sorted(prompt_responses)


def test_204_when_nothing_is_left():
    project, (alice, bob) = seeded_project(n=1, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    assert _judge(client, task["id"], {"ranking": [r["id"] for r in task["responses"]]}).status_code == 201
    response = _next(client, project)
    assert response.status_code == 204 and response.content == b""
    assert _next(_client(bob), project).status_code == 204


def test_disabled_kind_is_403_and_unknown_kind_400():
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    response = _next(_client(alice), project, kind="demonstration")
    assert response.status_code == 403 and response.json()["code"] == "kind_disabled"
    assert _next(_client(alice), project, kind="poem").status_code == 400


def test_judgment_round_trip_with_every_field():
    project, (alice, _) = seeded_project(n=1, k=2, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    a, b = (r["id"] for r in task["responses"])
    body = {
        "choice": b,
        "strength": "clear",
        "criteria": {"helpfulness": {"ranking": [b, a]}, "honesty": {"ratings": {str(a): 3, str(b): 6}}},
        "rationale": "B answers the question.",
        "flags": ["pii"],
        "time_spent_ms": 4200,
    }
    response = _judge(client, task["id"], body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["task"] == task["id"] and out["ranking"] == [[b], [a]] and out["strength"] == "clear"
    assert out["flags"] == ["pii"] and out["rationale"] == "B answers the question."
    assert out["criteria"]["honesty"] == {"ratings": {str(a): 3, str(b): 6}}
    assert out["display_order"] == [a, b]
    assert Judgment.objects.get(pk=out["id"]).time_spent_ms == 4200


def test_smallest_judgment_body_is_a_ranking_with_nested_ties():
    project, (alice, _) = seeded_project(n=1, k=3, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    a, b, c = (r["id"] for r in task["responses"])
    response = _judge(client, task["id"], {"ranking": [c, [a, b]]})
    assert response.status_code == 201 and response.json()["ranking"] == [[c], [a, b]]


def test_idempotency_key_replay_over_http():
    project, (alice, _) = seeded_project(n=2, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    ranking = [r["id"] for r in task["responses"]]
    first = _judge(client, task["id"], {"ranking": ranking}, key="retry-1")
    second = _judge(client, task["id"], {"ranking": ranking}, key="retry-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Judgment.objects.count() == 1
    assert Task.objects.get(pk=task["id"]).completed_count == 1

    other = _next(client, project).json()
    reused = _judge(client, other["id"], {"ranking": [r["id"] for r in other["responses"]]}, key="retry-1")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


def test_double_submit_without_key_is_409():
    project, (alice, _) = seeded_project(n=2, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    ranking = [r["id"] for r in task["responses"]]
    assert _judge(client, task["id"], {"ranking": ranking}).status_code == 201
    again = _judge(client, task["id"], {"ranking": ranking})
    assert again.status_code == 409 and again.json()["code"] == "already_submitted"
    assert Judgment.objects.count() == 1


def test_submitting_to_someone_elses_task():
    project, (alice, bob) = seeded_project(n=2, task_kinds=["comparison"])
    task = _next(_client(alice), project).json()
    body = {"ranking": [r["id"] for r in task["responses"]]}
    as_bob = _judge(_client(bob), task["id"], body)
    assert as_bob.status_code == 403 and as_bob.json()["code"] == "not_assigned"
    as_stranger = _judge(_client(UserFactory()), task["id"], body)
    assert as_stranger.status_code == 404
    assert not Judgment.objects.exists()


def test_expired_lease_submit_over_http():
    project, (alice, bob) = seeded_project(n=1, task_kinds=["comparison"])
    alice_client = _client(alice)
    task = _next(alice_client, project).json()
    Assignment.objects.filter(annotator=alice).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert _next(_client(bob), project).json()["id"] == task["id"]
    late = _judge(alice_client, task["id"], {"ranking": [r["id"] for r in task["responses"]]})
    assert late.status_code == 409 and late.json()["code"] == "lease_expired"


def test_skip_over_http():
    project, (alice, bob) = seeded_project(n=1, task_kinds=["comparison"])
    client = _client(alice)
    task = _next(client, project).json()
    response = client.post(f"/api/v1/tasks/{task['id']}/skip/")
    assert response.status_code == 200 and response.json() == {"status": "skipped"}
    assert _next(client, project).status_code == 204
    assert _next(_client(bob), project).json()["id"] == task["id"]
    again = client.post(f"/api/v1/tasks/{task['id']}/skip/")
    assert again.status_code == 409
    assert _client(UserFactory()).post(f"/api/v1/tasks/{task['id']}/skip/").status_code == 404


def test_demonstration_submit_replay_and_review_over_http():
    project, (alice, _) = seeded_project(n=2, k=2, task_kinds=["demonstration"])
    client = _client(alice)
    task = _next(client, project, kind="demonstration").json()
    url = f"/api/v1/tasks/{task['id']}/demonstrations/"
    source = task["candidates"][0]["id"]
    body = {"text": "The ideal reply.", "source_response_id": source, "time_spent_ms": 10}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="demo-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="demo-1")
    assert (first.status_code, second.status_code) == (201, 200)
    out = first.json()
    assert out["id"] == second.json()["id"] and out["review_status"] == "pending"
    assert out["source_response_id"] == source and out["original_text"]
    assert client.post(url, {"text": "again"}, format="json").status_code == 409

    reviewer = _client(member(project, "reviewer"))
    queue = reviewer.get(f"/api/v1/projects/{project.pk}/demonstrations/")
    assert queue.status_code == 200 and [d["id"] for d in queue.json()] == [out["id"]]
    assert queue.json()[0]["text"] == "The ideal reply."
    rejected = reviewer.post(f"/api/v1/demonstrations/{out['id']}/review/", {"decision": "rejected"}, format="json")
    assert rejected.status_code == 400 and rejected.json()["code"] == "comment_required"
    accepted = reviewer.post(
        f"/api/v1/demonstrations/{out['id']}/review/", {"decision": "accepted", "comment": "Good."}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["review_status"] == "accepted"
    assert Demonstration.objects.get(pk=out["id"]).reviewer is not None
    assert reviewer.get(f"/api/v1/projects/{project.pk}/demonstrations/").json() == []
    done = reviewer.get(f"/api/v1/projects/{project.pk}/demonstrations/?status=accepted").json()
    assert [d["id"] for d in done] == [out["id"]]


def test_staff_can_work_in_any_project():
    project, _ = seeded_project(n=1, task_kinds=["comparison"])
    client = _client(EngineerFactory())
    task = _next(client, project).json()
    assert _judge(client, task["id"], {"ranking": [r["id"] for r in task["responses"]]}).status_code == 201


@pytest.mark.parametrize("replay", [False, True])
def test_judgment_answer_has_the_documented_serializers_shape_and_values(replay):
    """The submit answer is built without the serializer (hot path); it must equal what the serializer gives."""
    from annotation.api.tasks import TaskJudgmentCreateApi

    project, (alice, _) = seeded_project(n=1, k=3, task_kinds=["comparison"], criteria=["helpfulness"])
    client = _client(alice)
    task = _next(client, project).json()
    ids = [r["id"] for r in task["responses"]]
    body = {
        "ranking": [ids[0], [ids[1], ids[2]]],
        "strength": "strong",
        "criteria": {"helpfulness": {"ratings": {str(i): 5 for i in ids}}},
        "rationale": "First is <b>clearly</b> better.",
        "flags": ["pii"],
        "time_spent_ms": 4321,
    }
    response = _judge(client, task["id"], body, key="shape-1")
    if replay:
        response = _judge(client, task["id"], body, key="shape-1")
    assert response.status_code == (200 if replay else 201)
    expected = TaskJudgmentCreateApi.OutputSerializer(Judgment.objects.get(pk=response.json()["id"])).data
    assert response.json() == expected
    assert list(response.json()) == list(expected)
