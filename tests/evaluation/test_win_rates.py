"""Win rates judged by a reward model and by humans (blind comparison tasks that fill the page as votes arrive)."""

import shutil

import pytest
from django.conf import settings

from annotation.models import Membership, Project, Response, Task
from annotation.services import judgment_submit, task_assign_next
from evaluation.models import EvaluationRun
from evaluation.services import refresh_waiting_runs
from evaluation.suites.win_rate import length_controlled
from tests.annotation.factories import EngineerFactory, UserFactory
from training.runners.base import ArtifactSpec
from training.services import artifact_register, job_execute, job_launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_model(tiny_lm_dir, db):
    import torch
    from transformers import AutoModelForCausalLM

    path = settings.ARTIFACTS_ROOT / "jobs" / "000099-sft" / "model"
    shutil.copytree(tiny_lm_dir, path)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    model.save_pretrained(path)
    return artifact_register(spec=ArtifactSpec("model", path, name="other"))


def test_length_controlled_win_rate_removes_a_length_bias():
    import numpy as np

    diffs = np.linspace(-100, 100, 400)
    outcomes = (diffs > 0).astype(float)  # the longer answer always wins: no quality difference at equal length
    assert length_controlled(outcomes, diffs) == pytest.approx(0.5, abs=0.05)


def test_reward_model_judged_win_rate(base_model, other_model, snapshots):
    config = {
        "model": str(other_model.pk),
        "baseline": str(base_model.pk),
        "reward_model": str(base_model.pk),
        "suites": ["win_rate"],
        "preferences": "latest",
        "limit": 4,
        "max_new_tokens": 8,
    }
    job = job_launch(kind="evaluate", config=config)
    assert job_execute(job_id=job.pk) == "succeeded"
    run = EvaluationRun.objects.get(suite="win_rate")
    metrics = {m.name: m for m in run.metrics.all()}
    n = metrics["win_rate"].n
    assert 0 <= metrics["win_rate"].value <= 1 and 1 <= n <= 4  # held-out prompts of the snapshot, at most limit
    assert {"win_rate", "ties", "length_controlled_win_rate"} <= set(metrics)
    assert run.baseline == base_model and run.examples.count() == n


def test_human_win_rate_tasks_fill_in_as_judgments_arrive(base_model, other_model, snapshots, api_client):
    EngineerFactory()
    config = {
        "model": str(other_model.pk),
        "baseline": str(base_model.pk),
        "suites": ["human_win_rate"],
        "preferences": "latest",
        "limit": 3,
        "max_new_tokens": 8,
    }
    job = job_launch(kind="evaluate", config=config)
    assert job_execute(job_id=job.pk) == "succeeded"
    run = EvaluationRun.objects.get(suite="human_win_rate")
    assert run.status == "waiting" and run.annotation_project_id
    project = Project.objects.get(pk=run.annotation_project_id)
    tasks = Task.objects.filter(project=project)
    assert tasks.count() >= 1
    versions = set(Response.objects.filter(prompt__project=project).values_list("model_version", flat=True))
    assert versions == {f"artifact:{other_model.pk}", f"artifact:{base_model.pk}"}

    judge = UserFactory()
    Membership.objects.create(project=project, user=judge, role="annotator")
    api_client.force_authenticate(judge)
    shown = api_client.get(f"/api/v1/projects/{project.pk}/tasks/next/?kind=comparison").json()
    assert "model" not in str(shown).lower().replace("model_", "")  # blind: no model names in the task
    # The judge prefers the candidate's answer everywhere.
    while (a := task_assign_next(project=project, annotator=judge, kind="comparison")) is not None:
        ours = Response.objects.get(pk__in=a.display_order, model_version=f"artifact:{other_model.pk}").pk
        theirs = next(r for r in a.display_order if r != ours)
        judgment_submit(task_id=a.task_id, annotator=judge, ranking=[ours, theirs])
    refresh_waiting_runs()
    run.refresh_from_db()
    assert run.status == "complete"
    assert run.metrics.get(name="win_rate").value == 1.0

    api_client.force_authenticate(EngineerFactory())
    body = api_client.get(f"/api/v1/evaluations/{run.pk}/").json()
    assert body["suite"] == "human_win_rate" and body["metrics"][0]["value"] == 1.0
    arena = api_client.get("/api/v1/leaderboard/").json()["arena"]
    assert [a["artifact_id"] for a in arena] == [other_model.pk, base_model.pk]
    csv = b"".join(api_client.get(f"/api/v1/evaluations/{run.pk}/examples/?format=csv").streaming_content)
    assert csv.startswith(b"index,category,input")
