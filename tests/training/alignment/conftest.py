import shutil

import pytest
from django.conf import settings

from annotation.models import Demonstration
from annotation.selectors.export import PreferenceFilters, SftFilters
from annotation.services import (
    demonstration_review,
    demonstration_submit,
    judgment_submit,
    prompts_import,
    snapshot_freeze,
    task_assign_next,
)
from tests.annotation.factories import EngineerFactory, MembershipFactory, ProjectFactory, jsonl
from training.runners.base import ArtifactSpec
from training.services import artifact_register

N = 16


@pytest.fixture
def snapshots(db):
    """A project judged and demonstrated through the services, frozen into preference and SFT snapshots."""
    project = ProjectFactory(
        responses_per_comparison=2, overlap=1, split_ratios={"train": 0.75, "validation": 0.25, "test": 0.0}
    )
    records = [
        {"id": f"q{i}", "prompt": f"What is {i} plus {i}?", "responses": [f"It is {2 * i}.", f"Maybe {i}? Not sure."]}
        for i in range(N)
    ]
    prompts_import(project=project, lines=jsonl(records).splitlines(keepends=True))
    annotator = MembershipFactory(project=project).user
    reviewer = EngineerFactory()
    while (a := task_assign_next(project=project, annotator=annotator, kind="comparison")) is not None:
        judgment_submit(task_id=a.task_id, annotator=annotator, ranking=sorted(a.display_order))
    while (a := task_assign_next(project=project, annotator=annotator, kind="demonstration")) is not None:
        prompt = a.task.prompt.messages[0]["content"]
        n = int(prompt.split()[2])
        demonstration_submit(task_id=a.task_id, annotator=annotator, text=f"{n} plus {n} is {2 * n}.")
    for demo in Demonstration.objects.all():
        demonstration_review(demonstration_id=demo.pk, reviewer=reviewer, decision="accepted")
    prefs, _ = snapshot_freeze(project=project, kind="preferences", filters=PreferenceFilters(style="conversational"))
    sft, _ = snapshot_freeze(project=project, kind="sft", filters=SftFilters())
    assert prefs.row_count == N and sft.row_count == N
    return {"preferences": prefs, "sft": sft, "project": project}


@pytest.fixture
def base_model(tiny_lm_dir, db):
    path = settings.ARTIFACTS_ROOT / "jobs" / "000000-pretrain" / "model"
    shutil.copytree(tiny_lm_dir, path)
    return artifact_register(spec=ArtifactSpec("model", path, name="tiny base"))
