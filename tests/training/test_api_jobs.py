"""The jobs API: launch with validation, read, cancel, retry, clone, metrics, the kinds catalog and the schema."""

import importlib

import pytest
import yaml

from tests.annotation.factories import UserFactory
from training.configs import artifact_fields
from training.models import Artifact, Job, JobMetric
from training.runners import KINDS
from training.services import job_execute, job_launch

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs/"


def _kind_available(name: str) -> bool:
    try:
        KINDS[name].load_config_class()
    except ImportError:
        return False
    return True


@pytest.fixture
def staff_client(api_client, engineer):
    api_client.force_authenticate(engineer)
    return api_client


def test_launch_minimal_config_fills_defaults(staff_client, engineer):
    resp = staff_client.post(JOBS, {"kind": "test_steps", "config": {"steps": 3}}, format="json")
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["status"] == "queued" and body["kind"] == "test_steps" and body["queue"] == "cpu"
    assert body["config"] == {"steps": 3, "seconds_per_step": 0.0, "fail_at_step": -1, "checkpoint_every": 1}
    job = Job.objects.get(pk=body["id"])
    assert job.created_by == engineer and job.config["steps"] == 3


def test_launch_without_config_uses_every_default(staff_client):
    resp = staff_client.post(JOBS, {"kind": "test_steps"}, format="json")
    assert resp.status_code == 201
    assert resp.json()["config"]["steps"] == 10


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"steps": 0}, "steps", "must be at least 1"),
        ({"steps": "many"}, "steps", "expected an integer"),
        ({"stepz": 3}, None, "unknown field"),
    ],
)
def test_invalid_config_is_a_400_naming_the_field(staff_client, config, field, message):
    resp = staff_client.post(JOBS, {"kind": "test_steps", "config": config}, format="json")
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "invalid_config" and message in body["detail"]
    assert body.get("field") == field
    assert not Job.objects.exists()


def test_unknown_kind_and_bad_placement_are_400(staff_client):
    resp = staff_client.post(JOBS, {"kind": "nope"}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "unknown_kind"
    resp = staff_client.post(JOBS, {"kind": "test_steps", "resources": {"gpus": -1}}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_resources"
    resp = staff_client.post(JOBS, {"kind": "test_steps", "config": [1, 2]}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_config"
    assert not Job.objects.exists()


def test_prepare_corpus_minimal_and_nested_error(staff_client):
    if not _kind_available("prepare_corpus"):
        pytest.skip("the prepare_corpus runner is not importable yet")
    resp = staff_client.post(
        JOBS, {"kind": "prepare_corpus", "config": {"sources": [{"type": "pydocs"}]}}, format="json"
    )
    assert resp.status_code == 201, resp.json()
    resp = staff_client.post(
        JOBS, {"kind": "prepare_corpus", "config": {"sources": [{"type": "files"}]}}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json()["field"] == "sources[0].path"


def test_train_tokenizer_minimal_config(staff_client):
    if not _kind_available("train_tokenizer"):
        pytest.skip("the train_tokenizer runner is not importable yet")
    dataset = Artifact.objects.create(kind="dataset", name="d", path="jobs/000001-prepare_corpus/dataset", sha256="0")
    config = {"algorithm": "bpe", "vocab_size": 2048}
    resp = staff_client.post(JOBS, {"kind": "train_tokenizer", "config": config}, format="json")
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["config"]["algorithm"] == "bpe" and body["config"]["vocab_size"] == 2048
    if "input" in artifact_fields(KINDS["train_tokenizer"].load_config_class()):
        # "latest" is pinned at launch, so the job's config names exactly the dataset it reads.
        assert body["config"]["input"] == str(dataset.pk)
        assert [a["id"] for a in body["inputs"]] == [dataset.pk]
    resp = staff_client.post(JOBS, {"kind": "train_tokenizer", "config": {"algorithm": "sentencepiece"}}, format="json")
    assert resp.status_code == 400 and resp.json()["field"] == "algorithm"


def test_staff_only(api_client):
    resp = api_client.post(JOBS, {"kind": "test_steps"}, format="json")
    assert resp.status_code == 401
    api_client.force_authenticate(UserFactory())
    job = job_launch(kind="test_steps", config={})
    for method, url in [
        ("post", JOBS),
        ("get", JOBS),
        ("get", f"{JOBS}{job.pk}/"),
        ("post", f"{JOBS}{job.pk}/cancel/"),
        ("get", f"{JOBS}{job.pk}/metrics/"),
        ("get", f"{JOBS}kinds/"),
    ]:
        resp = getattr(api_client, method)(url, {"kind": "test_steps"} if method == "post" else None, format="json")
        assert resp.status_code == 403, url
        assert resp.json()["code"] in {"permission_denied", "forbidden"}
    job.refresh_from_db()
    assert job.status == "queued" and Job.objects.count() == 1


def test_detail_list_and_404(staff_client):
    job = job_launch(kind="test_steps", config={"steps": 2}, name="two steps")
    other = job_launch(kind="test_steps", config={"steps": 4}, queue="gpu")
    body = staff_client.get(f"{JOBS}{job.pk}/").json()
    assert body["id"] == job.pk and body["name"] == "two steps"
    assert body["progress"] == {"step": 0, "total": None, "fraction": None, "message": "", "eta_seconds": None}
    listed = staff_client.get(JOBS, {"queue": "gpu"}).json()
    assert [j["id"] for j in listed] == [other.pk]
    resp = staff_client.get(f"{JOBS}999999/")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


def test_cancel_retry_clone(staff_client, engineer):
    job = job_launch(kind="test_steps", config={"steps": 3})
    resp = staff_client.post(f"{JOBS}{job.pk}/cancel/")
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    resp = staff_client.post(f"{JOBS}{job.pk}/cancel/")
    assert resp.status_code == 409 and resp.json()["code"] == "finished"

    resp = staff_client.post(f"{JOBS}{job.pk}/retry/")
    assert resp.status_code == 200 and resp.json()["status"] == "queued"
    assert job_execute(job_id=job.pk) == "succeeded"
    resp = staff_client.post(f"{JOBS}{job.pk}/retry/")
    assert resp.status_code == 409 and resp.json()["code"] == "not_retryable"

    resp = staff_client.post(f"{JOBS}{job.pk}/clone/", {}, format="json")
    assert resp.status_code == 201
    clone = resp.json()
    assert clone["source_job"] == job.pk and clone["config"] == job.config and clone["created_by"] == engineer.username
    resp = staff_client.post(f"{JOBS}{job.pk}/clone/", {"config": {"steps": 7}}, format="json")
    assert resp.status_code == 201 and resp.json()["config"]["steps"] == 7
    resp = staff_client.post(f"{JOBS}{job.pk}/clone/", {"config": {"steps": -1}}, format="json")
    assert resp.status_code == 400 and resp.json()["field"] == "steps"
    assert Job.objects.count() == 3


def test_metrics_since(staff_client):
    job = job_launch(kind="test_steps", config={"steps": 4})
    assert job_execute(job_id=job.pk) == "succeeded"
    url = f"{JOBS}{job.pk}/metrics/"
    full = staff_client.get(url).json()
    assert full["series"]["loss"] == {"step": [1, 2, 3, 4], "value": [1.0, 0.5, 1 / 3, 0.25]}
    assert full["series"]["step_value"]["value"] == [1.0, 2.0, 3.0, 4.0]
    assert full["last_id"] == JobMetric.objects.filter(job=job).latest("id").pk
    assert staff_client.get(url, {"since": full["last_id"]}).json() == {"last_id": full["last_id"], "series": {}}
    middle = JobMetric.objects.filter(job=job, name="loss", step=2).get().pk
    rest = staff_client.get(url, {"since": middle}).json()["series"]
    assert rest["loss"]["step"] == [3, 4] and rest["step_value"]["step"] == [2, 3, 4]
    only = staff_client.get(url, {"name": "loss"}).json()["series"]
    assert list(only) == ["loss"]
    assert staff_client.get(url, {"since": "abc"}).json()["series"]["loss"]["step"] == [1, 2, 3, 4]


def test_kinds_catalog_has_each_kinds_schema(staff_client):
    catalog = {k["kind"]: k for k in staff_client.get(f"{JOBS}kinds/").json()}
    assert set(catalog) == set(KINDS)
    steps = catalog["test_steps"]["config_schema"]
    assert steps["properties"]["steps"] == {"type": "integer", "description": "units of work", "default": 10}
    for name, entry in catalog.items():
        schema = entry["config_schema"]
        assert schema["type"] == "object" and schema["properties"], name
        assert all("description" in prop for prop in schema["properties"].values()), name
        config_class = KINDS[name].load_config_class()
        assert schema["title"] == config_class.__name__
        importlib.import_module(KINDS[name].module)


def test_openapi_schema_lists_the_job_endpoints(staff_client):
    resp = staff_client.get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    paths = yaml.safe_load(resp.content)["paths"]
    for path in (
        "/api/v1/jobs/",
        "/api/v1/jobs/kinds/",
        "/api/v1/jobs/{job_id}/",
        "/api/v1/jobs/{job_id}/cancel/",
        "/api/v1/jobs/{job_id}/retry/",
        "/api/v1/jobs/{job_id}/clone/",
        "/api/v1/jobs/{job_id}/metrics/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/v1/jobs/"] and "post" in paths["/api/v1/jobs/{job_id}/cancel/"]
