"""import → judge → export through the API → `datasets` loads it → TRL trains on it unchanged."""

import math

import pytest
from rest_framework.authtoken.models import Token

from annotation.models import Project

from .factories import EngineerFactory, MembershipFactory, jsonl, prompt_records

pytestmark = pytest.mark.django_db

N_PROMPTS = 12


def _judge_everything(api_client, project: Project, users) -> int:
    done = 0
    for user in users:
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        while (r := api_client.get(f"/api/v1/projects/{project.pk}/tasks/next/?kind=comparison")).status_code == 200:
            ids = [resp["id"] for resp in r.json()["responses"]]
            # The scripted annotator prefers the response with the lower id ("answer 0").
            s = api_client.post(f"/api/v1/tasks/{r.json()['id']}/judgments/", {"ranking": sorted(ids)}, format="json")
            assert s.status_code == 201, s.content
            done += 1
        assert r.status_code == 204
    api_client.credentials()
    return done


@pytest.fixture
def judged_project(api_client):
    engineer = EngineerFactory()
    api_client.force_authenticate(engineer)
    r = api_client.post("/api/v1/projects/", {"name": "roundtrip", "overlap": 2, "responses_per_comparison": 2})
    assert r.status_code == 201, r.content
    project = Project.objects.get(pk=r.json()["id"])
    records = prompt_records(N_PROMPTS, k=2)
    records.append(
        {
            "id": "conv",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Name a colour."},
            ],
            "responses": ["Blue.", "I refuse."],
        }
    )
    r = api_client.post(f"/api/v1/projects/{project.pk}/import/", jsonl(records), content_type="application/x-ndjson")
    assert r.status_code == 201, r.content
    api_client.force_authenticate(None)
    users = [MembershipFactory(project=project).user for _ in range(2)]
    assert _judge_everything(api_client, project, users) == 2 * (N_PROMPTS + 1)
    api_client.force_authenticate(engineer)
    return project


def _export(api_client, project, tmp_path, style: str):
    r = api_client.get(f"/api/v1/projects/{project.pk}/export/preferences/?format=jsonl&style={style}")
    assert r.status_code == 200 and r.streaming
    path = tmp_path / f"prefs-{style}.jsonl"
    path.write_bytes(b"".join(r.streaming_content))
    return path


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_export_loads_in_datasets(api_client, judged_project, tmp_path, style):
    from datasets import load_dataset

    ds = load_dataset("json", data_files=str(_export(api_client, judged_project, tmp_path, style)), split="train")
    assert ds.num_rows == N_PROMPTS + 1
    assert {"prompt", "chosen", "rejected", "margin", "agreement", "votes_chosen"} <= set(ds.column_names)
    row = next(r for r in ds if r["prompt_id"] == "p0")
    if style == "standard":
        assert (
            row["prompt"] == "Question p0?"
            and row["chosen"] == "answer 0 to p0"
            and row["rejected"] == "answer 1 to p0"
        )
    else:
        assert row["prompt"] == [{"role": "user", "content": "Question p0?"}]
        assert row["chosen"] == [{"role": "assistant", "content": "answer 0 to p0"}]
    assert row["votes_chosen"] == 2 and row["agreement"] == 1.0


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_dpo_and_reward_trainers_run_on_the_export(api_client, judged_project, tmp_path, tiny_lm_dir, style):
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
    from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer

    dataset = load_dataset("json", data_files=str(_export(api_client, judged_project, tmp_path, style)), split="train")
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    common = dict(
        per_device_train_batch_size=4,
        max_steps=2,
        learning_rate=1e-3,
        bf16=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        max_length=128,
    )
    dpo = DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_lm_dir),
        args=DPOConfig(output_dir=str(tmp_path / "dpo"), **common),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    result = dpo.train()
    assert result.global_step == 2
    assert math.isfinite(result.training_loss)

    rm = RewardTrainer(
        model=AutoModelForSequenceClassification.from_pretrained(tiny_lm_dir, num_labels=1),
        args=RewardConfig(output_dir=str(tmp_path / "rm"), **common),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    assert rm.train().global_step == 2
