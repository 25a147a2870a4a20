"""generate: a model version's samples become responses (with provenance) and comparison tasks in a project."""

import shutil

import pytest
from django.conf import settings

from annotation.models import Response, Task
from annotation.services import prompts_import
from tests.annotation.factories import ProjectFactory, jsonl
from training.runners.base import ArtifactSpec
from training.services import artifact_register, job_execute, job_launch
from webapp.api_errors import ApiError

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_artifact(tiny_lm_dir):
    path = settings.ARTIFACTS_ROOT / "jobs" / "000001-pretrain" / "model"
    shutil.copytree(tiny_lm_dir, path)
    return artifact_register(spec=ArtifactSpec("model", path, name="tiny"))


def test_generate_fills_a_project_with_model_responses(model_artifact):
    project = ProjectFactory(responses_per_comparison=2, task_kinds=["comparison"])
    records = [{"id": f"q{i}", "prompt": f"Explain item {i}."} for i in range(5)]
    records.append({"id": "chat", "messages": [{"role": "user", "content": "Hi there"}]})
    prompts_import(project=project, lines=jsonl(records).splitlines(keepends=True))
    config = {"project": project.pk, "samples_per_prompt": 2, "max_new_tokens": 12, "temperature": 1.0}
    job = job_launch(kind="generate", config=config)
    assert job.config["models"] == [str(model_artifact.pk)]  # "latest" pinned at launch
    assert job_execute(job_id=job.pk) == "succeeded", job.error_message
    job.refresh_from_db()
    responses = Response.objects.filter(prompt__project=project)
    assert responses.count() == job.result["summary"]["responses_created"] >= 10
    first = responses.first()
    assert first.source == "model" and first.model_version == f"artifact:{model_artifact.pk}"
    assert first.generation_params["temperature"] == 1.0 and "sample_index" in first.generation_params
    assert Task.objects.filter(project=project, kind="comparison").count() >= 5

    again = job_launch(kind="generate", config=config)
    assert job_execute(job_id=again.pk) == "succeeded"
    again.refresh_from_db()
    assert again.result["summary"]["samples"] == 0  # every prompt already holds this version's samples


def test_generate_needs_a_model():
    project = ProjectFactory()
    with pytest.raises(ApiError, match="no model"):
        job_launch(kind="generate", config={"project": project.pk})
