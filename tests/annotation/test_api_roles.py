"""The API half of the role matrix: every endpoint in annotation/api_urls.py, for anonymous / annotator / reviewer /
project engineer / staff engineer / non-member, table-driven. Non-members get 404 (ids do not leak), members whose
role is too low 403, anonymous callers 401. Annotators never see other annotators' work."""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern
from rest_framework.test import APIClient

from annotation import api_urls
from annotation.selectors.export import PreferenceFilters
from annotation.services import snapshot_freeze, task_assign_next

from .factories import (
    EngineerFactory,
    ProjectFactory,
    UserFactory,
    demonstrate,
    import_records,
    jsonl,
    judge,
    member,
    prompt_records,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "annotator", "reviewer", "project_engineer", "staff", "nonmember")


@dataclass
class World:
    project: object
    users: dict
    task_id: int  # a comparison task leased to someone else
    demo_task_id: int  # a demonstration task leased to someone else
    demonstration_id: int  # someone else's pending demonstration
    snapshot_id: int


@pytest.fixture
def world() -> World:
    project = ProjectFactory(task_kinds=["comparison", "demonstration"], overlap=1)
    import_records(project, prompt_records(6, k=2))
    owner = member(project, username="owner")
    judge(project, owner, rationale="owner's private rationale")
    demo = demonstrate(project, owner, "owner's private demonstration")
    lease = task_assign_next(project=project, annotator=owner, kind="comparison")
    demo_lease = task_assign_next(project=project, annotator=owner, kind="demonstration")
    snapshot, _ = snapshot_freeze(project=project, kind="preferences", filters=PreferenceFilters(split="test"))
    UserFactory(username="newcomer")
    users = {
        "anonymous": None,
        "annotator": member(project, "annotator", username="ann"),
        "reviewer": member(project, "reviewer", username="rev"),
        "project_engineer": member(project, "engineer", username="peng"),
        "staff": EngineerFactory(username="staff"),
        "nonmember": UserFactory(username="stranger"),
    }
    member(ProjectFactory(), username="stranger-elsewhere")
    return World(project, users, lease.task_id, demo_lease.task_id, demo.pk, snapshot.pk)


#           anonymous annotator reviewer project_engineer staff nonmember
MATRIX = {
    ("GET", "project-list"): (401, 200, 200, 200, 200, 200),
    ("POST", "project-list"): (401, 403, 403, 403, 201, 403),
    ("GET", "project-detail"): (401, 200, 200, 200, 200, 404),
    ("POST", "project-members"): (401, 403, 403, 201, 201, 404),
    ("POST", "project-import"): (401, 403, 403, 201, 201, 404),
    ("GET", "task-next"): (401, 200, 200, 200, 200, 404),
    ("GET", "project-stats"): (401, 403, 200, 200, 200, 404),
    ("GET", "project-quality"): (401, 403, 403, 200, 200, 404),
    ("GET", "review-list"): (401, 403, 200, 200, 200, 404),
    ("GET", "export-preferences"): (401, 403, 403, 200, 200, 404),
    ("GET", "export-sft"): (401, 403, 403, 200, 200, 404),
    ("GET", "snapshot-freeze"): (401, 403, 403, 200, 200, 404),
    ("POST", "snapshot-freeze"): (401, 403, 403, 201, 201, 404),
    ("GET", "snapshot-detail"): (401, 403, 403, 200, 200, 404),
    ("GET", "snapshot-download"): (401, 403, 403, 200, 200, 404),
    # someone else's task: members are refused (403), non-members do not see it (404)
    ("POST", "task-judgments"): (401, 403, 403, 403, 403, 404),
    ("POST", "task-demonstrations"): (401, 403, 403, 403, 403, 404),
    ("POST", "task-skip"): (401, 403, 403, 403, 403, 404),
    ("POST", "review"): (401, 403, 200, 200, 200, 404),
}


def _request(world: World, method: str, name: str, user, role: str = ""):
    p = world.project.pk
    urls = {
        "project-list": "/api/v1/projects/",
        "project-detail": f"/api/v1/projects/{p}/",
        "project-members": f"/api/v1/projects/{p}/members/",
        "project-import": f"/api/v1/projects/{p}/import/",
        "task-next": f"/api/v1/projects/{p}/tasks/next/?kind=comparison",
        "project-stats": f"/api/v1/projects/{p}/stats/",
        "project-quality": f"/api/v1/projects/{p}/quality/",
        "review-list": f"/api/v1/projects/{p}/demonstrations/",
        "export-preferences": f"/api/v1/projects/{p}/export/preferences/",
        "export-sft": f"/api/v1/projects/{p}/export/sft/",
        "snapshot-freeze": f"/api/v1/projects/{p}/snapshots/",
        "snapshot-detail": f"/api/v1/snapshots/{world.snapshot_id}/",
        "snapshot-download": f"/api/v1/snapshots/{world.snapshot_id}/download/",
        "task-judgments": f"/api/v1/tasks/{world.task_id}/judgments/",
        "task-demonstrations": f"/api/v1/tasks/{world.demo_task_id}/demonstrations/",
        "task-skip": f"/api/v1/tasks/{world.task_id}/skip/",
        "review": f"/api/v1/demonstrations/{world.demonstration_id}/review/",
    }
    bodies = {
        "project-list": {"name": f"created by {role}"},
        "project-members": {"username": "newcomer", "role": "annotator"},
        "task-judgments": {"ranking": [1, 2]},
        "task-demonstrations": {"text": "mine"},
        # distinct filters per role, so every allowed freeze creates its own snapshot (201)
        "snapshot-freeze": {"split": "train", "min_agreement": ROLES.index(role) / 10 if role else None},
        "review": {"decision": "accepted"},
    }
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if method == "GET":
        return client.get(urls[name])
    if name == "project-import":
        return client.post(urls[name], data=jsonl(prompt_records(2, prefix="new")), content_type="application/x-ndjson")
    return client.post(urls[name], bodies.get(name, {}), format="json")


@pytest.mark.parametrize("method, name", list(MATRIX), ids=[f"{m} {n}" for m, n in MATRIX])
def test_role_matrix(world, method, name):
    """One endpoint, every role in turn (refusals change nothing; allowed writes are repeatable)."""
    mismatches = []
    for role, expected in zip(ROLES, MATRIX[(method, name)], strict=True):
        response = _request(world, method, name, world.users[role], role)
        if response.status_code != expected:
            mismatches.append((role, expected, response.status_code, response.content[:200]))
        elif expected >= 400:
            body = response.json()
            assert body["code"] and body["detail"], (role, body)
    assert mismatches == []


def test_the_matrix_covers_every_api_endpoint():
    names = {p.name for p in api_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == {name for _, name in MATRIX}
    for pattern in api_urls.urlpatterns:
        view = pattern.callback.view_class
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        assert methods == {m for m, name in MATRIX if name == pattern.name}, pattern.name


@pytest.mark.parametrize("role", ["annotator", "reviewer", "project_engineer", "staff"])
def test_every_member_role_can_do_its_own_tasks(world, role):
    client = APIClient()
    client.force_authenticate(world.users[role])
    p = world.project.pk
    task = client.get(f"/api/v1/projects/{p}/tasks/next/?kind=comparison").json()
    body = {"ranking": [r["id"] for r in task["responses"]]}
    assert client.post(f"/api/v1/tasks/{task['id']}/judgments/", body, format="json").status_code == 201
    demo = client.get(f"/api/v1/projects/{p}/tasks/next/?kind=demonstration").json()
    response = client.post(f"/api/v1/tasks/{demo['id']}/demonstrations/", {"text": "ok"}, format="json")
    assert response.status_code == 201
    skip_me = client.get(f"/api/v1/projects/{p}/tasks/next/?kind=comparison").json()
    assert client.post(f"/api/v1/tasks/{skip_me['id']}/skip/").status_code == 200


def test_annotators_never_see_other_annotators_work(world):
    """Walk every GET an annotator may call (and serve them every task): the owner's work never appears."""
    annotator = world.users["annotator"]
    client = APIClient()
    client.force_authenticate(annotator)
    p = world.project.pk
    seen = []
    for kind in ("comparison", "demonstration"):
        while True:
            response = client.get(f"/api/v1/projects/{p}/tasks/next/?kind={kind}&render=html")
            if response.status_code == 204:
                break
            task = response.json()
            seen.append(response.content)
            if kind == "comparison":
                body = {"ranking": [r["id"] for r in task["responses"]]}
                client.post(f"/api/v1/tasks/{task['id']}/judgments/", body, format="json")
            else:
                client.post(f"/api/v1/tasks/{task['id']}/demonstrations/", {"text": "mine"}, format="json")
    assert len(seen) >= 8
    for method, name in MATRIX:
        if method == "GET":
            response = _request(world, method, name, annotator)
            seen.append(b"".join(response.streaming_content) if response.streaming else response.content)
    everything = b"\n".join(seen)
    assert b"owner's private" not in everything
    assert b"owner" not in everything


def test_reviewers_see_demonstrations_but_not_judgments(world):
    client = APIClient()
    client.force_authenticate(world.users["reviewer"])
    p = world.project.pk
    queue = client.get(f"/api/v1/projects/{p}/demonstrations/").json()
    assert [d["text"] for d in queue] == ["owner's private demonstration"]
    stats = client.get(f"/api/v1/projects/{p}/stats/").content
    assert b"owner's private rationale" not in stats
    assert client.get(f"/api/v1/projects/{p}/export/preferences/").status_code == 403


def test_token_authentication_follows_the_same_roles(world):
    from rest_framework.authtoken.models import Token

    p = world.project.pk
    for role, expected in (("annotator", 403), ("project_engineer", 200), ("nonmember", 404)):
        token = Token.objects.create(user=world.users[role])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert client.get(f"/api/v1/projects/{p}/export/preferences/").status_code == expected, role


def test_session_authenticated_posts_need_csrf(world):
    """Pages use the session; a cross-site POST without the CSRF token is refused."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["project_engineer"])
    response = client.post(f"/api/v1/projects/{world.project.pk}/snapshots/", {}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
