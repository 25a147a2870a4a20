"""Every error under /api/ is JSON ``{"detail", "code"}`` with a 4xx status: malformed bodies, unknown ids, wrong
methods, garbage values. Nothing returns HTML, nothing returns a 500."""

import pytest

from annotation.models import Judgment
from annotation.services import task_assign_next

from .factories import EngineerFactory, seeded_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(api_client):
    project, (alice, _) = seeded_project(n=3, k=3, task_kinds=["comparison", "demonstration"])
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    api_client.force_authenticate(alice)
    return api_client, project, alice, lease


def _is_json_error(response, status: int | None = None) -> dict:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:200])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("code"), str) and body["code"]
    if status is not None:
        assert response.status_code == status, body
    return body


def test_malformed_json_body(setup):
    client, _, _, lease = setup
    response = client.post(
        f"/api/v1/tasks/{lease.task_id}/judgments/", data=b'{"ranking": [1, 2', content_type="application/json"
    )
    body = _is_json_error(response, 400)
    assert body["code"] == "parse_error"


def test_unsupported_content_type(setup):
    client, _, _, lease = setup
    response = client.post(f"/api/v1/tasks/{lease.task_id}/judgments/", data=b"ranking", content_type="text/plain")
    _is_json_error(response, 415)


def test_deeply_nested_json_is_a_400(setup):
    client, _, _, lease = setup
    body = b'{"ranking": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(f"/api/v1/tasks/{lease.task_id}/judgments/", data=body, content_type="application/json")
    _is_json_error(response, 400)


def test_nan_and_infinity_are_not_json(setup):
    client, _, _, lease = setup
    response = client.post(
        f"/api/v1/tasks/{lease.task_id}/judgments/", data=b'{"ranking": [NaN]}', content_type="application/json"
    )
    _is_json_error(response, 400)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/999999/",
        "/api/v1/projects/999999/stats/",
        "/api/v1/projects/999999/tasks/next/",
        "/api/v1/projects/999999/export/preferences/",
        "/api/v1/snapshots/999999/",
        "/api/v1/snapshots/999999/download/",
        "/api/v1/projects/99999999999999999999999999/",
        "/api/v1/no-such-endpoint/",
        "/api/v1/projects/not-a-number/",
        "/api/nothing/",
    ],
)
def test_unknown_ids_and_paths_are_json_404(setup, url):
    client, *_ = setup
    _is_json_error(client.get(url), 404)


HUGE = "99999999999999999999999999"


@pytest.mark.parametrize("task_id", ["999999", HUGE, str(2**63)])
@pytest.mark.parametrize(
    "action, body",
    [("judgments", {"ranking": [1, 2, 3]}), ("demonstrations", {"text": "x"}), ("skip", {})],
    ids=["judgments", "demonstrations", "skip"],
)
def test_posting_to_unknown_tasks_is_json_404(setup, task_id, action, body):
    client, *_ = setup
    _is_json_error(client.post(f"/api/v1/tasks/{task_id}/{action}/", body, format="json"), 404)


@pytest.mark.parametrize("demonstration_id", ["999999", HUGE])
def test_reviewing_an_unknown_demonstration_is_json_404(setup, demonstration_id):
    client, *_ = setup
    client.force_authenticate(EngineerFactory())
    response = client.post(
        f"/api/v1/demonstrations/{demonstration_id}/review/", {"decision": "accepted"}, format="json"
    )
    _is_json_error(response, 404)


@pytest.mark.parametrize("url", [f"/api/v1/snapshots/{HUGE}/", f"/api/v1/snapshots/{HUGE}/download/"])
def test_unknown_snapshots_are_json_404_even_for_staff(setup, url):
    client, *_ = setup
    client.force_authenticate(EngineerFactory())
    _is_json_error(client.get(url), 404)


@pytest.mark.parametrize(
    "method, url",
    [
        ("delete", "/api/v1/projects/{project}/"),
        ("put", "/api/v1/projects/{project}/"),
        ("get", "/api/v1/tasks/{task}/judgments/"),
        ("post", "/api/v1/projects/{project}/tasks/next/"),
        ("patch", "/api/v1/projects/{project}/stats/"),
        ("get", "/api/v1/projects/{project}/import/"),
    ],
)
def test_wrong_method_is_json_405(setup, method, url):
    client, project, _, lease = setup
    client.force_authenticate(EngineerFactory())
    response = getattr(client, method)(url.format(project=project.pk, task=lease.task_id))
    body = _is_json_error(response, 405)
    assert body["code"] == "method_not_allowed"


def test_errors_stay_json_when_the_client_asks_for_html(setup):
    client, _project, _, lease = setup
    response = client.get("/api/v1/projects/999999/", HTTP_ACCEPT="text/html")
    body = _is_json_error(response, 404)
    assert body["detail"] == "No such project."
    response = client.post(
        f"/api/v1/tasks/{lease.task_id}/judgments/", {"ranking": "nope"}, format="json", HTTP_ACCEPT="text/html"
    )
    body = _is_json_error(response, 400)
    assert "ranking" in body["detail"]


GARBAGE_JUDGMENTS = [
    {"ranking": ["a", "b", "c"]},
    {"ranking": [1.5, 2.5, 3.5]},
    {"ranking": [10**30, 10**31, 10**32]},
    {"ranking": [-(2**63), 2**63, 0]},
    {"ranking": [[[[1]]]]},
    {"ranking": {"a": {"b": [1, {"c": None}]}}},
    {"ranking": None},
    {"ranking": True},
    {"ranking": []},
    {"choice": {"x": 1}},
    {"choice": [1, 2]},
    {"choice": 10**40},
    {"strength": ["clear"]},
    {"strength": "enormous"},
    {"criteria": "helpfulness"},
    {"criteria": {"helpfulness": {"ratings": {"1": 10**40}}}},
    {"criteria": {"helpfulness": {"ratings": {"x" * 1000: 3}}}},
    {"criteria": {"helpfulness": {"ranking": [[[]]]}}},
    {"criteria": [[[]]]},
    {"flags": "unsafe"},
    {"flags": [["unsafe"]]},
    {"flags": [{"unsafe": True}]},
    {"time_spent_ms": 10**30},
    {"time_spent_ms": -1},
    {"time_spent_ms": "soon"},
    {"time_spent_ms": 2**31},
    {"rationale": ["a"]},
    {"rationale": "x" * 30_000},
    ["not", "an", "object"],
    "just a string",
    12,
    None,
]


@pytest.mark.parametrize("body", GARBAGE_JUDGMENTS, ids=lambda b: repr(b)[:40])
def test_garbage_judgments_are_4xx_never_500(setup, body):
    client, _, _, lease = setup
    if isinstance(body, dict) and "ranking" not in body and "choice" not in body:
        body = {"ranking": sorted(lease.task.response_ids), **body}
    response = client.post(f"/api/v1/tasks/{lease.task_id}/judgments/", body, format="json")
    _is_json_error(response, 400)
    assert not Judgment.objects.exists()


def test_overlong_idempotency_key_is_a_400(setup):
    client, _, _, lease = setup
    response = client.post(
        f"/api/v1/tasks/{lease.task_id}/judgments/",
        {"ranking": sorted(lease.task.response_ids)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 300,
    )
    _is_json_error(response, 400)
    assert not Judgment.objects.exists()


GARBAGE_PROJECTS = [
    {"name": ""},
    {"name": "x" * 500},
    {"name": ["a"]},
    {"name": "p", "overlap": 0},
    {"name": "p", "overlap": 10**30},
    {"name": "p", "overlap": "many"},
    {"name": "p", "responses_per_comparison": 1},
    {"name": "p", "lease_seconds": 10**30},
    {"name": "p", "lease_seconds": 10**12},
    {"name": "p", "gold_ratio": 2},
    {"name": "p", "split_ratios": {"train": 0.5}},
    {"name": "p", "split_ratios": {"dev": 1.0}},
    {"name": "p", "split_ratios": [1, 0, 0]},
    {"name": "p", "task_kinds": []},
    {"name": "p", "task_kinds": ["ranking"]},
    {"name": "p", "criteria": [""]},
    {"name": "p", "criteria": ["a", "a"]},
    {"name": "p", "criteria": [{"name": "a"}]},
    {"name": "p", "unknown": 1},
]


@pytest.mark.parametrize("body", GARBAGE_PROJECTS, ids=lambda b: repr(b)[:40])
def test_garbage_projects_are_4xx_never_500(api_client, body):
    api_client.force_authenticate(EngineerFactory())
    response = api_client.post("/api/v1/projects/", body, format="json")
    _is_json_error(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        "format=csv",
        "split=dev",
        "style=sharegpt",
        "min_agreement=abc",
        "min_agreement=nan",
        "min_agreement=inf",
        "min_agreement=2",
        "min_agreement=1e999",
    ],
)
def test_bad_export_parameters_are_400(setup, query):
    client, project, _, _ = setup
    client.force_authenticate(EngineerFactory())
    _is_json_error(client.get(f"/api/v1/projects/{project.pk}/export/preferences/?{query}"), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "everything"},
        {"split": "dev"},
        {"min_agreement": "high"},
        {"min_agreement": 3},
        {"style": 1},
        {"include_ties": "perhaps"},
    ],
    ids=repr,
)
def test_bad_freeze_bodies_are_400(setup, body):
    client, project, _, _ = setup
    client.force_authenticate(EngineerFactory())
    _is_json_error(client.post(f"/api/v1/projects/{project.pk}/snapshots/", body, format="json"), 400)


@pytest.mark.parametrize(
    "body",
    [{"text": ""}, {"text": ["x"]}, {"text": "ok", "source_response_id": "x"}, {"text": "ok", "time_spent_ms": 2**40}],
    ids=repr,
)
def test_bad_demonstrations_are_400(setup, body):
    client, project, alice, _ = setup
    lease = task_assign_next(project=project, annotator=alice, kind="demonstration")
    _is_json_error(client.post(f"/api/v1/tasks/{lease.task_id}/demonstrations/", body, format="json"), 400)


def test_bad_source_response_id_is_400(setup):
    client, project, alice, _ = setup
    lease = task_assign_next(project=project, annotator=alice, kind="demonstration")
    for source in (10**30, -1, 0):
        response = client.post(
            f"/api/v1/tasks/{lease.task_id}/demonstrations/",
            {"text": "ok", "source_response_id": source},
            format="json",
        )
        _is_json_error(response, 400)


def test_bad_member_bodies_are_400(setup):
    client, project, _, _ = setup
    client.force_authenticate(EngineerFactory())
    url = f"/api/v1/projects/{project.pk}/members/"
    _is_json_error(client.post(url, {"username": "nobody-here", "role": "annotator"}, format="json"), 400)
    _is_json_error(client.post(url, {"username": "x", "role": "admin"}, format="json"), 400)
    _is_json_error(client.post(url, {}, format="json"), 400)


def test_bad_review_status_is_400(setup):
    client, project, _, _ = setup
    client.force_authenticate(EngineerFactory())
    response = client.get(f"/api/v1/projects/{project.pk}/demonstrations/?status=approved")
    assert _is_json_error(response, 400)["code"] == "invalid_status"


def test_bad_task_kind_is_400(setup):
    client, project, _, _ = setup
    _is_json_error(client.get(f"/api/v1/projects/{project.pk}/tasks/next/?kind=essay"), 400)


def test_unauthenticated_is_json_401(api_client, setup):
    _, project, _, _ = setup
    response = api_client.__class__().get(f"/api/v1/projects/{project.pk}/")
    _is_json_error(response, 401)
    bad_token = api_client.__class__()
    bad_token.credentials(HTTP_AUTHORIZATION="Token nope")
    _is_json_error(bad_token.get(f"/api/v1/projects/{project.pk}/"), 401)
