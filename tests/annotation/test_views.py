"""The HTML pages: the role matrix (pages half), escaping, progress counts, the preview endpoint."""

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Role
from annotation.selectors.progress import progress_for
from annotation.services import demonstration_submit, judgment_submit, task_assign_next

from .factories import EngineerFactory, MembershipFactory, ProjectFactory, UserFactory, seeded_project

pytestmark = pytest.mark.django_db

PAGES = ("compare", "demonstrate", "review", "quality")

ROLES = ("anonymous", "annotator", "reviewer", "project_engineer", "staff", "outsider")
# Expected status per page, in ROLES order. Non-members get 404 so project ids do not leak; anonymous users go to login.
EXPECTED = {
    "home":        (302, 200, 200, 200, 200, 200),
    "compare":     (302, 200, 200, 200, 200, 404),
    "demonstrate": (302, 200, 200, 200, 200, 404),
    "review":      (302, 403, 200, 200, 200, 404),
    "quality":     (302, 403, 403, 200, 200, 404),
    "progress":    (302, 200, 200, 200, 200, 404),
}  # fmt: skip


@pytest.fixture
def world():
    project, (annotator,) = seeded_project(n=3, k=2, annotators=1)
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    project_engineer = MembershipFactory(project=project, role=Role.ENGINEER).user
    users = {
        "anonymous": None,
        "annotator": annotator,
        "reviewer": reviewer,
        "project_engineer": project_engineer,
        "staff": EngineerFactory(),
        "outsider": UserFactory(),
    }
    return project, users


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _url(page: str, project) -> str:
    if page == "home":
        return reverse("annotation:home")
    return reverse(f"annotation:{page}", args=[project.pk])


@pytest.mark.parametrize("page", list(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(world, page, role):
    project, users = world
    response = _client(users[role]).get(_url(page, project))
    assert response.status_code == EXPECTED[page][ROLES.index(role)], (page, role, response.status_code)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("page", PAGES)
def test_missing_project_is_404(page):
    response = _client(EngineerFactory()).get(reverse(f"annotation:{page}", args=[999_999]))
    assert response.status_code == 404


def test_home_lists_only_member_projects_with_counts():
    project, (alice, bob) = seeded_project(n=4, k=2, annotators=2, task_kinds=["comparison"])
    other = ProjectFactory(name="someone else's project")
    assignment = task_assign_next(project=project, annotator=alice, kind="comparison")
    judgment_submit(task_id=assignment.task_id, annotator=alice, ranking=assignment.display_order)
    task_assign_next(project=project, annotator=bob, kind="comparison")  # bob leases one: it is not open any more

    body = _client(alice).get(reverse("annotation:home")).content.decode()
    assert project.name in body and other.name not in body
    assert 'data-count="done-comparison">1<' in body
    assert 'data-count="remaining-comparison">2<' in body
    assert reverse("annotation:compare", args=[project.pk]) in body
    assert reverse("annotation:demonstrate", args=[project.pk]) not in body  # kind disabled in this project
    assert reverse("annotation:quality", args=[project.pk]) not in body  # annotators see no quality link


def test_progress_counts_follow_leases_and_submits():
    project, (alice, bob) = seeded_project(n=3, k=2, annotators=2, overlap=2, task_kinds=["comparison"])
    counts = progress_for(user=alice, project_ids=[project.pk])[project.pk]["comparison"]
    assert counts == {"done": 0, "remaining": 3}
    a = task_assign_next(project=project, annotator=alice, kind="comparison")
    assert progress_for(user=alice, project_ids=[project.pk])[project.pk]["comparison"] == {"done": 0, "remaining": 2}
    judgment_submit(task_id=a.task_id, annotator=alice, ranking=a.display_order)
    assert progress_for(user=alice, project_ids=[project.pk])[project.pk]["comparison"] == {"done": 1, "remaining": 2}
    # Overlap 2: alice's task stays open for bob, so it still counts as remaining for him.
    assert progress_for(user=bob, project_ids=[project.pk])[project.pk]["comparison"] == {"done": 0, "remaining": 3}

    response = _client(alice).get(reverse("annotation:progress", args=[project.pk]) + "?kind=comparison")
    assert response.json() == {"done": 1, "remaining": 2}
    bad = _client(alice).get(reverse("annotation:progress", args=[project.pk]) + "?kind=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_kind"


def test_guidelines_are_rendered_markdown_with_html_escaped():
    project, (alice,) = seeded_project(
        n=1, annotators=1, guidelines="Prefer **honest** answers.\n\n<script>alert('x')</script>"
    )
    for url in (reverse("annotation:home"), reverse("annotation:compare", args=[project.pk])):
        body = _client(alice).get(url).content.decode()
        assert "<strong>honest</strong>" in body
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert" in body


def test_project_name_is_escaped():
    project, (alice,) = seeded_project(n=1, annotators=1, name="<img src=x onerror=alert(1)>")
    body = _client(alice).get(reverse("annotation:compare", args=[project.pk])).content.decode()
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_compare_page_embeds_config_for_the_script():
    project, (alice,) = seeded_project(n=1, k=3, annotators=1, criteria=["helpfulness", "honesty"])
    response = _client(alice).get(reverse("annotation:compare", args=[project.pk]))
    config = response.context["config"]
    assert config["project"] == project.pk and config["k"] == 3
    assert config["criteria"] == ["helpfulness", "honesty"] and config["criteriaMode"] == "preference"
    assert 'id="page-config" type="application/json"' in response.content.decode()


def test_disabled_kind_page_is_404():
    project, (alice,) = seeded_project(n=1, annotators=1, task_kinds=["demonstration"])
    assert _client(alice).get(reverse("annotation:compare", args=[project.pk])).status_code == 404
    assert _client(alice).get(reverse("annotation:demonstrate", args=[project.pk])).status_code == 200


def test_quality_page_shows_agreement_and_annotators():
    project, (alice, bob) = seeded_project(n=2, k=2, annotators=2, overlap=2, task_kinds=["comparison"])
    for user in (alice, bob):
        for _ in range(2):
            a = task_assign_next(project=project, annotator=user, kind="comparison")
            judgment_submit(task_id=a.task_id, annotator=user, ranking=sorted(a.display_order))
    response = _client(EngineerFactory()).get(reverse("annotation:quality", args=[project.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="agreement-table"' in body and "overall" in body
    assert alice.username in body and bob.username in body
    overall = response.context["quality"]["criteria"][0]
    assert overall["criterion"] == "overall" and overall["percent_agreement"] == 1.0
    assert "100.0%" in body


def test_quality_page_with_no_data():
    project = ProjectFactory()
    response = _client(EngineerFactory()).get(reverse("annotation:quality", args=[project.pk]))
    assert response.status_code == 200 and b"No judgments yet." in response.content


def test_review_page_renders_for_reviewer():
    project, (alice,) = seeded_project(n=1, annotators=1, task_kinds=["demonstration"])
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    a = task_assign_next(project=project, annotator=alice, kind="demonstration")
    demonstration_submit(task_id=a.task_id, annotator=alice, text="ideal")
    response = _client(reviewer).get(reverse("annotation:review", args=[project.pk]))
    assert response.status_code == 200 and b"review.js" in response.content


def test_demonstration_payload_offers_the_prompts_responses(api_client):
    project, (alice,) = seeded_project(n=1, k=2, annotators=1, task_kinds=["demonstration"])
    api_client.force_authenticate(alice)
    r = api_client.get(f"/api/v1/projects/{project.pk}/tasks/next/?kind=demonstration&render=html")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["responses"] == []
    assert [c["text"] for c in body["candidates"]] == ["answer 0 to p0", "answer 1 to p0"]
    assert all(c["html"].startswith("<p>") for c in body["candidates"])


class TestPreview:
    url = "/annotate/preview/"

    def test_renders_markdown_and_escapes_html(self):
        client = _client(UserFactory())
        r = client.post(self.url, orjson.dumps({"text": "# Title\n\n<script>x()</script>"}), "application/json")
        assert r.status_code == 200
        assert "<h1>Title</h1>" in r.json()["html"]
        assert "<script>" not in r.json()["html"] and "&lt;script&gt;" in r.json()["html"]

    @pytest.mark.parametrize(
        ("body", "code"),
        [(b"{not json", "invalid_json"), (b"[1]", "invalid_text"), (b'{"text": 3}', "invalid_text")],
    )
    def test_bad_input_is_a_clear_400(self, body, code):
        r = _client(UserFactory()).post(self.url, body, "application/json")
        assert r.status_code == 400 and r.json()["code"] == code

    def test_too_long(self):
        r = _client(UserFactory()).post(self.url, orjson.dumps({"text": "x" * 200_001}), "application/json")
        assert r.status_code == 400 and r.json()["code"] == "too_long"

    def test_needs_login_and_csrf_and_post(self):
        assert Client().post(self.url, b'{"text": "a"}', "application/json").status_code == 302
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(UserFactory())
        assert strict.post(self.url, b'{"text": "a"}', "application/json").status_code == 403
        assert _client(UserFactory()).get(self.url).status_code == 405


def test_login_page_and_logout():
    user = UserFactory(username="carol")
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(reverse("login"), {"username": "carol", "password": "pw-plumbline-1"})
    assert response.status_code == 302 and response["Location"] == reverse("annotation:home")
    home = client.get(reverse("annotation:home"))
    assert home.status_code == 200 and b"carol" in home.content
    client.post(reverse("logout"))
    assert client.get(reverse("annotation:home")).status_code == 302
    assert user.pk
