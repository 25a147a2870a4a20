"""Projects, members, JSONL import over HTTP (raw body and multipart), stats, and the OpenAPI schema."""

import io

import orjson
import pytest
import yaml
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from annotation.models import Membership, Project, Prompt, Response, Task
from annotation.services import project_create, project_update, task_assign_next, task_skip
from annotation.services.projects import MAX_LEASE_SECONDS

from .factories import (
    EngineerFactory,
    ProjectFactory,
    UserFactory,
    import_records,
    jsonl,
    judge,
    member,
    prompt_records,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer_client(api_client):
    api_client.force_authenticate(EngineerFactory())
    return api_client


def test_create_a_project_with_defaults(engineer_client):
    response = engineer_client.post(
        "/api/v1/projects/", {"name": "Helpful chat", "overlap": 3, "responses_per_comparison": 2}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Helpful chat" and body["overlap"] == 3 and body["responses_per_comparison"] == 2
    assert body["task_kinds"] == ["comparison", "demonstration"]
    assert body["criteria"] == ["helpfulness", "harmlessness", "honesty"]
    assert body["split_ratios"] == {"train": 0.9, "validation": 0.05, "test": 0.05}
    assert (body["ties_allowed"], body["gold_ratio"], body["lease_seconds"]) == (True, 0.0, None)
    project = Project.objects.get(pk=body["id"])
    assert project.overlap == 3


def test_create_with_every_field(engineer_client):
    body = {
        "name": "Full",
        "overlap": 2,
        "responses_per_comparison": 4,
        "guidelines": "# Be kind",
        "task_kinds": ["comparison"],
        "demonstration_overlap": 2,
        "criteria": ["accuracy"],
        "criteria_mode": "rating",
        "ties_allowed": False,
        "gold_ratio": 0.1,
        "split_ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
        "lease_seconds": 600,
    }
    response = engineer_client.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.content
    out = response.json()
    assert {k: out[k] for k in body} == body


def test_a_lease_longer_than_a_month_is_refused_by_the_services():
    """Serving computes now + lease; a huge lease overflowed datetime there (a 500 on every next-task call)."""
    with pytest.raises(DjangoValidationError):
        project_create(name="forever", lease_seconds=10**12)
    project = project_create(name="month", lease_seconds=MAX_LEASE_SECONDS)
    with pytest.raises(DjangoValidationError):
        project_update(project=project, lease_seconds=MAX_LEASE_SECONDS + 1)
    assert Project.objects.get(pk=project.pk).lease_seconds == MAX_LEASE_SECONDS
    import_records(project, prompt_records(1))
    assert task_assign_next(project=project, annotator=member(project), kind="comparison") is not None


def test_duplicate_name_is_400(engineer_client):
    ProjectFactory(name="taken")
    response = engineer_client.post("/api/v1/projects/", {"name": "taken"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "duplicate"


def test_unknown_field_is_named(engineer_client):
    response = engineer_client.post("/api/v1/projects/", {"name": "x", "overlapp": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"overlapp": ["Unknown field."]}
    assert not Project.objects.exists()


def test_a_project_engineer_who_is_not_staff_is_made_member_when_creating(api_client):
    staff = EngineerFactory()
    api_client.force_authenticate(staff)
    response = api_client.post("/api/v1/projects/", {"name": "mine"}, format="json")
    assert response.status_code == 201
    assert not Membership.objects.exists()  # staff need no membership


def test_list_shows_only_the_users_projects(api_client):
    mine, other = ProjectFactory(name="mine"), ProjectFactory(name="other")
    user = member(mine)
    api_client.force_authenticate(user)
    names = [p["name"] for p in api_client.get("/api/v1/projects/").json()]
    assert names == ["mine"]
    api_client.force_authenticate(EngineerFactory())
    assert {p["name"] for p in api_client.get("/api/v1/projects/").json()} == {"mine", "other"}
    assert api_client.get(f"/api/v1/projects/{other.pk}/").status_code == 200


def test_detail(api_client):
    project = ProjectFactory(name="detail", guidelines="Read **this**.")
    api_client.force_authenticate(member(project))
    body = api_client.get(f"/api/v1/projects/{project.pk}/").json()
    assert body["id"] == project.pk and body["guidelines"] == "Read **this**."


def test_add_and_change_members(engineer_client):
    project = ProjectFactory()
    UserFactory(username="ann")
    url = f"/api/v1/projects/{project.pk}/members/"
    response = engineer_client.post(url, {"username": "ann", "role": "annotator"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "annotator"
    response = engineer_client.post(url, {"username": "ann", "role": "reviewer"}, format="json")
    assert response.status_code == 201 and response.json() == {
        "username": "ann",
        "role": "reviewer",
        "created_at": response.json()["created_at"],
    }
    assert Membership.objects.get(project=project).role == "reviewer"
    response = engineer_client.post(url, {"username": "ann"}, format="json")
    assert response.json()["role"] == "annotator"
    response = engineer_client.post(url, {"username": "ghost"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unknown_user"


# --- import over HTTP ------------------------------------------------------------------------------------------


def _import_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/import/"


def test_import_raw_body(engineer_client):
    project = ProjectFactory(task_kinds=["comparison"])
    response = engineer_client.post(
        _import_url(project), data=jsonl(prompt_records(3)), content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "lines": 3,
        "prompts_created": 3,
        "prompts_merged": 0,
        "responses_created": 6,
        "tasks_created": 3,
    }
    assert Prompt.objects.filter(project=project).count() == 3


def test_import_multipart_file_field(engineer_client):
    project = ProjectFactory(task_kinds=["comparison"])
    upload = io.BytesIO(jsonl(prompt_records(4)))
    upload.name = "prompts.jsonl"
    response = engineer_client.post(_import_url(project), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["prompts_created"] == 4
    assert Task.objects.filter(project=project).count() == 4


def test_import_multipart_without_the_file_field(engineer_client):
    project = ProjectFactory()
    response = engineer_client.post(_import_url(project), {"other": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "missing_file"


def test_import_is_idempotent_over_http(engineer_client):
    project = ProjectFactory(task_kinds=["comparison"])
    body = jsonl(prompt_records(5))
    engineer_client.post(_import_url(project), data=body, content_type="application/x-ndjson")
    again = engineer_client.post(_import_url(project), data=body, content_type="application/x-ndjson")
    assert again.status_code == 201
    assert again.json()["prompts_created"] == 0 and again.json()["prompts_merged"] == 5
    assert (Prompt.objects.filter(project=project).count(), Task.objects.filter(project=project).count()) == (5, 5)


@pytest.mark.parametrize("multipart", [False, True], ids=["raw", "multipart"])
def test_a_bad_line_is_a_400_with_its_line_number_and_nothing_written(engineer_client, multipart):
    project = ProjectFactory()
    lines = jsonl(prompt_records(5)).splitlines(keepends=True)
    lines[2] = b'{"prompt": "ok", "responses": "not a list"}\n'
    data = b"".join(lines)
    if multipart:
        upload = io.BytesIO(data)
        upload.name = "p.jsonl"
        response = engineer_client.post(_import_url(project), {"file": upload}, format="multipart")
    else:
        response = engineer_client.post(_import_url(project), data=data, content_type="application/x-ndjson")
    assert response.status_code == 400
    body = response.json()
    assert body["line"] == 3 and body["code"] == "invalid_import" and "responses" in body["detail"]
    assert not Prompt.objects.filter(project=project).exists()
    assert not Response.objects.filter(prompt__project=project).exists()


def test_a_line_over_the_limit_over_http(engineer_client, settings):
    settings.ANNOTATION_IMPORT_MAX_LINE_BYTES = 1000
    project = ProjectFactory()
    data = jsonl([{"prompt": "short"}, {"prompt": "y" * 5000}, {"prompt": "after"}])
    response = engineer_client.post(_import_url(project), data=data, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["line"] == 2 and "longer than 1000 bytes" in response.json()["detail"]
    assert not Prompt.objects.filter(project=project).exists()


def test_a_line_just_under_the_limit_over_http(engineer_client, settings):
    settings.ANNOTATION_IMPORT_MAX_LINE_BYTES = 1000
    project = ProjectFactory()
    line = orjson.dumps({"prompt": "z" * (1000 - 13)})
    assert len(line) == 1000
    response = engineer_client.post(_import_url(project), data=line + b"\r\n", content_type="application/x-ndjson")
    assert response.status_code == 201, response.content


def test_non_utf8_over_http(engineer_client):
    project = ProjectFactory()
    data = b'{"prompt": "fine"}\n{"prompt": "caf\xe9"}\n'
    response = engineer_client.post(_import_url(project), data=data, content_type="application/x-ndjson")
    assert response.status_code == 400 and response.json()["line"] == 2 and "UTF-8" in response.json()["detail"]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \n"], ids=["empty", "newlines", "blank"])
def test_an_empty_body_is_400(engineer_client, data):
    project = ProjectFactory()
    response = engineer_client.post(_import_url(project), data=data, content_type="application/x-ndjson")
    assert response.status_code == 400 and response.json()["code"] == "empty_import"


def test_import_with_a_token(api_client):
    """Scripts authenticate with `Authorization: Token ...` (what `manage.py drf_create_token` prints)."""
    project = ProjectFactory(task_kinds=["comparison"])
    engineer = member(project, "engineer")
    token = Token.objects.create(user=engineer)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(_import_url(project), data=jsonl(prompt_records(2)), content_type="application/x-ndjson")
    assert response.status_code == 201


def test_drf_create_token_command():
    user = UserFactory(username="scripter")
    out = io.StringIO()
    call_command("drf_create_token", "scripter", stdout=out)
    assert Token.objects.get(user=user).key in out.getvalue()


# --- stats ----------------------------------------------------------------------------------------------------


def test_stats(api_client):
    project = ProjectFactory(task_kinds=["comparison", "demonstration"], overlap=1, split_ratios={"train": 1.0})
    import_records(project, prompt_records(4))
    alice, bob = member(project, username="alice"), member(project, username="bob")
    judge(project, alice)
    judge(project, bob)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    task_skip(task_id=lease.task_id, annotator=alice)
    api_client.force_authenticate(member(project, "reviewer"))
    response = api_client.get(f"/api/v1/projects/{project.pk}/stats/")
    assert response.status_code == 200
    stats = response.json()
    assert stats["prompts"] == 4 and stats["prompts_per_split"] == {"train": 4}
    assert stats["tasks"]["comparison"] == {"total": 4, "open": 2, "full": 0, "done": 2}
    assert stats["tasks"]["demonstration"]["total"] == 4
    assert stats["judgments"] == 2 and stats["preference_pairs"] == 2 and stats["preference_ties"] == 0
    assert stats["demonstrations"] == {"pending": 0, "accepted": 0, "rejected": 0}
    by_name = {a["username"]: a for a in stats["annotators"]}
    assert by_name["alice"]["submitted"] == 1 and by_name["alice"]["skipped"] == 1
    assert by_name["bob"]["submitted"] == 1


# --- OpenAPI --------------------------------------------------------------------------------------------------

DOCUMENTED_PATHS = [
    "/api/v1/projects/",
    "/api/v1/projects/{project_id}/",
    "/api/v1/projects/{project_id}/members/",
    "/api/v1/projects/{project_id}/import/",
    "/api/v1/projects/{project_id}/tasks/next/",
    "/api/v1/projects/{project_id}/stats/",
    "/api/v1/projects/{project_id}/export/preferences/",
    "/api/v1/projects/{project_id}/export/sft/",
    "/api/v1/projects/{project_id}/snapshots/",
    "/api/v1/snapshots/{snapshot_id}/",
    "/api/v1/tasks/{task_id}/judgments/",
    "/api/v1/tasks/{task_id}/demonstrations/",
]


def test_openapi_schema_is_valid_and_documents_the_paths(api_client):
    from drf_spectacular.validation import validate_schema

    api_client.force_authenticate(UserFactory())
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    for path in DOCUMENTED_PATHS:
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/tasks/{task_id}/judgments/"]
    params = schema["paths"]["/api/v1/projects/{project_id}/export/preferences/"]["get"]["parameters"]
    assert {"format", "split", "style", "min_agreement"} <= {p["name"] for p in params}


def test_openapi_generation_has_no_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 1000


def test_api_docs_page_loads(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
