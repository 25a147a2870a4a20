"""The engineers' admin: every page opens for staff, actions go through the services and keep their guarantees."""

import re

import orjson
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotation.models import DatasetSnapshot, Demonstration, Judgment, Membership, Project, Prompt, Response, Task
from annotation.services import demonstration_submit, judgment_submit, task_assign_next

from .factories import EngineerFactory, MembershipFactory, UserFactory, jsonl, prompt_records, seeded_project

pytestmark = pytest.mark.django_db

MODELS = ["project", "prompt", "response", "task", "judgment", "demonstration", "datasetsnapshot"]


def judge_all(project: Project, users) -> int:
    done = 0
    for user in users:
        while (a := task_assign_next(project=project, annotator=user, kind="comparison")) is not None:
            judgment_submit(task_id=a.task_id, annotator=user, ranking=sorted(a.display_order))
            done += 1
    return done


def demonstrate(project: Project, user) -> Demonstration:
    a = task_assign_next(project=project, annotator=user, kind="demonstration")
    demonstration, _ = demonstration_submit(task_id=a.task_id, annotator=user, text="The ideal reply.")
    return demonstration


@pytest.fixture
def staff_client(client):
    client.force_login(EngineerFactory())
    return client


@pytest.fixture
def full_project(staff_client):
    """A project with a judgment, a demonstration and a frozen snapshot, so every admin page has a row to show."""
    project, users = seeded_project(n=4, k=2, annotators=2, overlap=2)
    judge_all(project, users)
    demonstrate(project, users[0])
    r = staff_client.post(
        reverse("admin:annotation_project_changelist"),
        {"action": "freeze_preferences", "_selected_action": [project.pk], "apply": "yes", "style": "standard"},
    )
    assert r.status_code == 302, r.content
    return project


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_opens_every_changelist_and_change_page(staff_client, full_project):
    objects = {
        "project": full_project,
        "prompt": Prompt.objects.first(),
        "response": Response.objects.first(),
        "task": Task.objects.first(),
        "judgment": Judgment.objects.first(),
        "demonstration": Demonstration.objects.first(),
        "datasetsnapshot": DatasetSnapshot.objects.first(),
    }
    for name in MODELS:
        r = staff_client.get(reverse(f"admin:annotation_{name}_changelist"))
        assert r.status_code == 200, name
        r = staff_client.get(reverse(f"admin:annotation_{name}_change", args=[objects[name].pk]))
        assert r.status_code == 200, name
    assert staff_client.get(reverse("admin:annotation_project_add")).status_code == 200
    assert staff_client.get(reverse("admin:index")).status_code == 200


def test_records_of_work_cannot_be_added_by_hand(staff_client):
    for name in ["prompt", "response", "task", "judgment", "demonstration", "datasetsnapshot"]:
        assert staff_client.get(reverse(f"admin:annotation_{name}_add")).status_code == 403, name


def test_changelists_search_and_filter(staff_client):
    project, _ = seeded_project(n=3)
    url = reverse("admin:annotation_prompt_changelist")
    r = staff_client.get(url, {"q": "Question p1"})
    assert r.status_code == 200
    assert r.context["cl"].result_count == 1
    r = staff_client.get(url, {"project__id__exact": project.pk, "split": "train"})
    assert r.status_code == 200
    assert r.context["cl"].result_count == Prompt.objects.filter(project=project, split="train").count()
    r = staff_client.get(reverse("admin:annotation_project_changelist"))
    row = r.context["cl"].result_list.get(pk=project.pk)
    assert (row.prompt_count, row.task_count, row.judgment_count) == (3, 6, 0)


def test_prompt_text_is_escaped(staff_client):
    project = seeded_project(n=1)[0]
    prompt = Prompt.objects.get(project=project)
    Prompt.objects.filter(pk=prompt.pk).update(messages=[{"role": "user", "content": "<script>alert(1)</script>"}])
    r = staff_client.get(reverse("admin:annotation_prompt_changelist"))
    assert b"<script>alert(1)</script>" not in r.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in r.content


def test_admin_is_for_staff_only(client):
    project, (annotator, _) = seeded_project(n=1)
    client.force_login(annotator)
    r = client.get(reverse("admin:annotation_project_changelist"))
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    r = client.get(reverse("admin:annotation_project_import", args=[project.pk]))
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


# --- JSONL import ----------------------------------------------------------------------------------------------


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("prompts.jsonl", data, content_type="application/x-ndjson")


def test_import_writes_everything(staff_client):
    project = Project.objects.create(name="imports")
    url = reverse("admin:annotation_project_import", args=[project.pk])
    assert staff_client.get(url).status_code == 200
    r = staff_client.post(url, {"file": _upload(jsonl(prompt_records(5, k=2)))})
    assert r.status_code == 302
    assert r["Location"] == reverse("admin:annotation_project_change", args=[project.pk])
    assert Prompt.objects.filter(project=project).count() == 5
    assert Response.objects.filter(prompt__project=project).count() == 10
    assert any("prompts created: 5" in m for m in _messages(r))
    # Re-importing the same file merges: nothing doubles.
    staff_client.post(url, {"file": _upload(jsonl(prompt_records(5, k=2)))})
    assert Prompt.objects.filter(project=project).count() == 5


def test_import_bad_line_writes_nothing_and_names_the_line(staff_client):
    project = Project.objects.create(name="imports")
    good = jsonl(prompt_records(2, k=2))
    r = staff_client.post(
        reverse("admin:annotation_project_import", args=[project.pk]), {"file": _upload(good + b'{"prompt": 1\n')}
    )
    assert r.status_code == 200
    errors = r.context["form"].errors["file"]
    assert errors and errors[0].startswith("line 3:")
    assert b"line 3:" in r.content
    assert Prompt.objects.filter(project=project).count() == 0
    assert Task.objects.filter(project=project).count() == 0


def test_import_conflict_found_while_writing_rolls_back(staff_client):
    project = Project.objects.create(name="imports")
    url = reverse("admin:annotation_project_import", args=[project.pk])
    staff_client.post(url, {"file": _upload(jsonl([{"id": "a", "prompt": "First"}]))})
    fresh = [{"id": "b", "prompt": "New one", "responses": ["x", "y"]}, {"id": "a", "prompt": "Changed"}]
    r = staff_client.post(url, {"file": _upload(jsonl(fresh))})
    assert r.status_code == 200
    assert "line 2:" in r.context["form"].errors["file"][0]
    assert list(Prompt.objects.filter(project=project).values_list("external_id", flat=True)) == ["a"]


def test_import_action_leads_to_the_upload_form(staff_client):
    project = Project.objects.create(name="imports")
    r = staff_client.post(
        reverse("admin:annotation_project_changelist"), {"action": "import_jsonl", "_selected_action": [project.pk]}
    )
    assert r.status_code == 302
    assert r["Location"] == reverse("admin:annotation_project_import", args=[project.pk])


# --- snapshots and export ------------------------------------------------------------------------------------------


def test_freeze_action_creates_a_snapshot_and_reports_its_hash(staff_client):
    project, users = seeded_project(n=4, k=2, annotators=2, overlap=2)
    judge_all(project, users)
    url = reverse("admin:annotation_project_changelist")
    form = staff_client.post(url, {"action": "freeze_preferences", "_selected_action": [project.pk]})
    assert form.status_code == 200 and b'name="min_agreement"' in form.content
    assert DatasetSnapshot.objects.count() == 0
    post = {"action": "freeze_preferences", "_selected_action": [project.pk], "apply": "yes", "style": "standard"}
    r = staff_client.post(url, post)
    assert r.status_code == 302
    snapshot = DatasetSnapshot.objects.get()
    assert snapshot.project == project and snapshot.kind == "preferences" and snapshot.row_count == 4
    assert snapshot.absolute_path.exists()
    assert any(snapshot.sha256 in m and m.startswith("Froze") for m in _messages(r))
    # Unchanged data and filters: the same snapshot is reported again, no copy is made.
    r = staff_client.post(url, post)
    assert DatasetSnapshot.objects.count() == 1
    assert any("reusing" in m and snapshot.sha256 in m for m in _messages(r))


def test_freeze_action_applies_filters(staff_client):
    project, users = seeded_project(n=4, k=2, annotators=1)
    judge_all(project, users)
    post = {
        "action": "freeze_preferences",
        "_selected_action": [project.pk],
        "apply": "yes",
        "style": "conversational",
        "min_agreement": "2",
    }
    r = staff_client.post(reverse("admin:annotation_project_changelist"), post)
    assert r.status_code == 200 and r.context["form"].errors["min_agreement"]
    post["min_agreement"] = "0.5"
    staff_client.post(reverse("admin:annotation_project_changelist"), post)
    snapshot = DatasetSnapshot.objects.get()
    assert snapshot.filters["style"] == "conversational" and snapshot.filters["min_agreement"] == 0.5
    first = orjson.loads(snapshot.absolute_path.read_bytes().splitlines()[0])
    assert first["chosen"][0]["role"] == "assistant"


def test_freeze_sft_action(staff_client):
    project, users = seeded_project(n=2, k=2, annotators=1)
    demonstrate(project, users[0])
    post = {"action": "freeze_sft", "_selected_action": [project.pk], "apply": "yes", "style": "conversational"}
    staff_client.post(reverse("admin:annotation_project_changelist"), {**post, "include_pending": "on"})
    snapshot = DatasetSnapshot.objects.get(kind="sft")
    assert snapshot.row_count == 1 and snapshot.filters["include_pending"] is True


def test_snapshots_are_immutable_and_downloadable(staff_client, full_project):
    snapshot = DatasetSnapshot.objects.get()
    change_url = reverse("admin:annotation_datasetsnapshot_change", args=[snapshot.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    download = reverse("annotation-api:snapshot-download", args=[snapshot.pk])
    assert download.encode() in page.content
    assert staff_client.post(change_url, {"row_count": 0}).status_code == 403
    delete_url = reverse("admin:annotation_datasetsnapshot_delete", args=[snapshot.pk])
    assert staff_client.get(delete_url).status_code == 403
    r = staff_client.get(download)
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == snapshot.absolute_path.read_bytes()


def test_export_action_links_to_the_streaming_api(staff_client):
    project, users = seeded_project(n=3, k=2, annotators=1)
    judge_all(project, users)
    r = staff_client.post(
        reverse("admin:annotation_project_changelist"),
        {"action": "export_preferences", "_selected_action": [project.pk]},
    )
    assert r.status_code == 302
    assert r["Location"] == reverse("annotation-api:export-preferences", args=[project.pk]) + "?format=jsonl"
    export = staff_client.get(r["Location"])
    assert export.status_code == 200
    rows = [orjson.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert len(rows) == 3 and {"prompt", "chosen", "rejected"} <= set(rows[0])
    page = staff_client.get(reverse("admin:annotation_project_change", args=[project.pk]))
    assert r["Location"].encode() in page.content.replace(b"&amp;", b"&")


# --- projects and members through the services ---------------------------------------------------------------------


def _project_form(**overrides) -> dict:
    data = {
        "name": "from admin",
        "guidelines": "# Be kind",
        "task_kinds": ["comparison", "demonstration"],
        "responses_per_comparison": "2",
        "overlap": "1",
        "demonstration_overlap": "1",
        "criteria": "helpfulness, honesty",
        "criteria_mode": "preference",
        "ties_allowed": "on",
        "gold_ratio": "0",
        "split_ratios": '{"train": 0.8, "validation": 0.1, "test": 0.1}',
        "lease_seconds": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_add_project_with_members(staff_client):
    alice = UserFactory(username="alice")
    data = _project_form(
        **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": alice.pk, "memberships-0-role": "reviewer"}
    )
    r = staff_client.post(reverse("admin:annotation_project_add"), data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    project = Project.objects.get(name="from admin")
    assert project.criteria == ["helpfulness", "honesty"]
    assert project.created_by is not None and project.created_by.is_staff
    assert list(project.memberships.values_list("user__username", "role")) == [("alice", "reviewer")]


def test_invalid_project_settings_are_form_errors(staff_client):
    r = staff_client.post(reverse("admin:annotation_project_add"), _project_form(split_ratios='{"train": 0.5}'))
    assert r.status_code == 200
    assert "split_ratios" in r.context["adminform"].form.errors
    assert not Project.objects.filter(name="from admin").exists()


def test_changing_overlap_in_admin_reopens_tasks(staff_client):
    project, users = seeded_project(n=2, k=2, annotators=1, overlap=1, task_kinds=["comparison"])
    judge_all(project, users)
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {"done"}
    membership = Membership.objects.get(project=project)
    bob = UserFactory(username="bob")
    data = _project_form(
        name=project.name,
        task_kinds=["comparison"],
        overlap="2",
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-project": project.pk,
            "memberships-0-user": membership.user_id,
            "memberships-0-role": "annotator",
            "memberships-1-project": project.pk,
            "memberships-1-user": bob.pk,
            "memberships-1-role": "annotator",
        },
    )
    r = staff_client.post(reverse("admin:annotation_project_change", args=[project.pk]), data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {"open"}
    project.refresh_from_db()
    assert task_assign_next(project=project, annotator=bob, kind="comparison") is not None
    assert project.memberships.count() == 2


# --- demonstration review ------------------------------------------------------------------------------------------


def test_accept_and_reject_actions_review_demonstrations(staff_client):
    project, users = seeded_project(n=3, k=2, annotators=1)
    first, second = demonstrate(project, users[0]), demonstrate(project, users[0])
    url = reverse("admin:annotation_demonstration_changelist")
    r = staff_client.post(url, {"action": "accept", "_selected_action": [first.pk]})
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.review_status == "accepted" and first.reviewer.is_staff
    page = staff_client.post(url, {"action": "reject", "_selected_action": [second.pk]})
    assert page.status_code == 200 and b'name="comment"' in page.content
    r = staff_client.post(url, {"action": "reject", "_selected_action": [second.pk], "apply": "yes", "comment": ""})
    assert r.status_code == 200 and r.context["form"].errors["comment"]
    second.refresh_from_db()
    assert second.review_status == "pending"
    r = staff_client.post(
        url, {"action": "reject", "_selected_action": [second.pk], "apply": "yes", "comment": "Too short."}
    )
    assert r.status_code == 302
    second.refresh_from_db()
    assert (second.review_status, second.review_comment) == ("rejected", "Too short.")
    filtered = staff_client.get(url, {"review_status__exact": "rejected"})
    assert [d.pk for d in filtered.context["cl"].result_list] == [second.pk]


def test_tools_column_links_each_project(staff_client):
    project = Project.objects.create(name="linked")
    MembershipFactory(project=project)
    page = staff_client.get(reverse("admin:annotation_project_changelist")).content.decode()
    assert re.search(rf'href="{reverse("admin:annotation_project_import", args=[project.pk])}"', page)
