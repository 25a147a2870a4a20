"""Management commands: import and export mirror the API for scripts; seed_demo is repeatable; DRF tokens work."""

import io
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from annotation.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from annotation.management.demo_data import ITEMS
from annotation.models import Demonstration, Membership, Project, Prompt, Response, Task
from annotation.services import demonstration_review, demonstration_submit, judgment_submit, task_assign_next

from .factories import EngineerFactory, MembershipFactory, ProjectFactory, jsonl, prompt_records

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def judge_all(project: Project, users) -> int:
    done = 0
    for user in users:
        while (a := task_assign_next(project=project, annotator=user, kind="comparison")) is not None:
            judgment_submit(task_id=a.task_id, annotator=user, ranking=sorted(a.display_order))
            done += 1
    return done


@pytest.fixture
def imported(tmp_path):
    project = ProjectFactory(name="scripts", overlap=2, responses_per_comparison=2)
    records = [*prompt_records(6, k=2), {"id": "conv", "messages": [{"role": "user", "content": "Hi?"}],
                                         "responses": ["Hello.", "Go away."]}]  # fmt: skip
    path = tmp_path / "prompts.jsonl"
    path.write_bytes(jsonl(records))
    out = run("import_prompts", "scripts", str(path))
    assert "7 prompts created" in out and "14 responses" in out
    return project


def test_import_then_export_round_trip(imported, tmp_path, client):
    users = [MembershipFactory(project=imported).user for _ in range(2)]
    assert judge_all(imported, users) == 14
    target = tmp_path / "prefs.jsonl"
    run("export_preferences", str(imported.pk), "--output", str(target))
    rows = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert len(rows) == 7
    assert {"prompt", "chosen", "rejected", "margin", "agreement", "split"} <= set(rows[0])
    assert all(row["agreement"] == 1.0 for row in rows)
    assert not (tmp_path / "prefs.jsonl.partial").exists()
    # Byte for byte what the API streams with the same filters, and the same again on stdout.
    client.force_login(EngineerFactory())
    api = client.get(f"/api/v1/projects/{imported.pk}/export/preferences/?format=jsonl")
    assert b"".join(api.streaming_content) == target.read_bytes()
    assert run("export_preferences", "scripts").encode() == target.read_bytes()


def test_export_filters_and_parquet(imported, tmp_path):
    judge_all(imported, [MembershipFactory(project=imported).user])
    conversational = [orjson.loads(x) for x in run("export_preferences", "scripts", "--style", "conversational")
                      .splitlines()]  # fmt: skip
    assert conversational[0]["chosen"] == [{"role": "assistant", "content": conversational[0]["chosen"][0]["content"]}]
    train = run("export_preferences", "scripts", "--split", "train").splitlines()
    assert len(train) == Prompt.objects.filter(project=imported, split="train").count()
    target = tmp_path / "prefs.parquet"
    run("export_preferences", "scripts", "--format", "parquet", "-o", str(target))
    table = pq.read_table(target)
    assert table.num_rows == 7 and {"prompt", "chosen", "rejected"} <= set(table.column_names)
    binary = io.BytesIO()
    call_command("export_preferences", "scripts", "--format", "parquet", stdout=binary, stderr=io.StringIO())
    assert binary.getvalue() == target.read_bytes()
    with pytest.raises(CommandError, match="Parquet is binary"):
        run("export_preferences", "scripts", "--format", "parquet")
    with pytest.raises(CommandError, match="min_agreement"):
        run("export_preferences", "scripts", "--min-agreement", "1.5")


def test_export_sft(imported, tmp_path):
    annotator, reviewer = (MembershipFactory(project=imported).user for _ in range(2))
    Membership.objects.filter(user=reviewer).update(role="reviewer")
    demos = []
    for text in ("First ideal reply.", "Second ideal reply."):
        a = task_assign_next(project=imported, annotator=annotator, kind="demonstration")
        demos.append(demonstration_submit(task_id=a.task_id, annotator=annotator, text=text)[0])
    demonstration_review(demonstration_id=demos[0].pk, reviewer=reviewer, decision="accepted")
    rows = [orjson.loads(line) for line in run("export_sft", "scripts").splitlines()]
    assert len(rows) == 1 and rows[0]["messages"][-1] == {"role": "assistant", "content": "First ideal reply."}
    standard = [orjson.loads(line) for line in run("export_sft", "scripts", "--style", "standard").splitlines()]
    assert standard[0]["completion"] == "First ideal reply." and "prompt" in standard[0]
    assert len(run("export_sft", "scripts", "--include-pending").splitlines()) == 2
    assert Demonstration.objects.count() == 2


def test_bad_file_names_the_line_and_writes_nothing(tmp_path):
    project = ProjectFactory(name="strict")
    path = tmp_path / "bad.jsonl"
    path.write_bytes(jsonl(prompt_records(1)) + b'{"prompt": "ok", "responses": "not a list"}\n')
    with pytest.raises(CommandError, match=r"line 2: \"responses\" must be a list\. Nothing was imported"):
        run("import_prompts", str(project.pk), str(path))
    assert not Prompt.objects.filter(project=project).exists()
    path.write_bytes(b"\xff\xfe\n")
    with pytest.raises(CommandError, match="line 1: not valid UTF-8"):
        run("import_prompts", "strict", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_prompts", "strict", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CommandError, match="No project with id or name 'nope'"):
        run("import_prompts", "nope", str(path))


def test_import_from_stdin(monkeypatch):
    project = ProjectFactory(name="piped")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl(prompt_records(3)))))
    assert "3 prompts created" in run("import_prompts", "piped", "-")
    assert Prompt.objects.filter(project=project).count() == 3


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "tokens": Token.objects.count(),
        "projects": Project.objects.count(),
        "members": Membership.objects.count(),
        "prompts": Prompt.objects.count(),
        "responses": Response.objects.count(),
        "tasks": Task.objects.count(),
        "gold": Task.objects.filter(is_gold=True).count(),
    }


def test_seed_demo_is_repeatable(client):
    first_out = run("seed_demo")
    first = _counts()
    assert first["users"] == 4 and first["tokens"] == 4 and first["projects"] == 2
    assert first["prompts"] >= 50 and first["gold"] == 5
    assistant = Project.objects.get(name="Demo: helpful assistant")
    assert assistant.responses_per_comparison == 2 and assistant.overlap == 2
    assert set(assistant.task_kinds) == {"comparison", "demonstration"}
    assert assistant.criteria == ["helpfulness", "harmlessness", "honesty"]
    assert Prompt.objects.filter(project=assistant).count() == 40
    assert Prompt.objects.filter(project=assistant, is_conversation=True).exists()
    assert Project.objects.get(name="Demo: rank three answers").responses_per_comparison == 3
    for username, _, role in DEMO_USERS:
        assert Membership.objects.get(project=assistant, user__username=username).role == role
        assert Token.objects.get(user__username=username).key in first_out
    assert DEMO_PASSWORD in first_out and "http://127.0.0.1:8000/" in first_out
    # Gold answers are the known best candidates.
    best_written = {item["id"]: item["candidates"][0] for item in ITEMS}
    for task in Task.objects.filter(is_gold=True).select_related("prompt"):
        best = Response.objects.get(pk=task.gold_ranking[0][0])
        assert best.text == best_written[task.prompt.external_id]

    second_out = run("seed_demo")
    assert _counts() == first
    assert "+0 prompts, +0 responses, +0 tasks" in second_out
    assert client.login(username="annotator1", password=DEMO_PASSWORD)
    assert client.get("/api/v1/projects/").json()[0]["name"].startswith("Demo:")


def test_seed_demo_refuses_production_unless_forced(settings):
    settings.SETTINGS_MODULE = "webapp.settings.production"
    with pytest.raises(CommandError, match="--force"):
        run("seed_demo")
    assert not Project.objects.exists()


def test_drf_create_token(api_client):
    user = get_user_model().objects.create_user("scripter", password="x-long-password")
    out = run("drf_create_token", "scripter")
    token = Token.objects.get(user=user)
    assert token.key in out
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/projects/").status_code == 200
    new = run("drf_create_token", "-r", "scripter")
    assert token.key not in new and Token.objects.get(user=user).key in new
    with pytest.raises(CommandError, match="does not exist"):
        run("drf_create_token", "nobody")


def test_real_exit_status_and_binary_stdout(tmp_path):
    """Through manage.py as a script runs it: non-zero exit with the line number; Parquet on a binary stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "DJANGO_"))}
    env.update(PLUMBLINE_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="webapp.settings.local")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"prompt": "fine"}\n{"prompt": "broken"\n')

    def manage(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "manage.py", *args]
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=300, check=False)

    assert manage("migrate", "-v0").returncode == 0
    seeded = manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    failed = manage("import_prompts", "Demo: helpful assistant", str(bad))
    assert failed.returncode == 1
    assert b"line 2: malformed JSON" in failed.stderr
    parquet = manage("export_preferences", "Demo: helpful assistant", "--format", "parquet")
    assert parquet.returncode == 0, parquet.stderr
    assert parquet.stdout[:4] == b"PAR1" and parquet.stdout[-4:] == b"PAR1"
    assert b"Exported 0 preference rows" in parquet.stderr
