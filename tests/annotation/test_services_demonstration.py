"""demonstration_submit and demonstration_review: writing ideal replies, editing responses, reviewing them."""

import pytest

from annotation.models import Assignment, Demonstration, Response, Task
from annotation.selectors.tasks import demonstrations_for_review
from annotation.services import demonstration_review, demonstration_submit, task_assign_next
from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from .factories import EngineerFactory, UserFactory, demonstrate, member, seeded_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    project, (alice, bob) = seeded_project(n=3, k=2, task_kinds=["demonstration"])
    lease = task_assign_next(project=project, annotator=alice, kind="demonstration")
    return project, alice, bob, lease


def test_a_demonstration_from_scratch(setup):
    _, alice, _, lease = setup
    demo, created = demonstration_submit(task_id=lease.task_id, annotator=alice, text="The answer.", time_spent_ms=9)
    assert created
    assert (demo.text, demo.source_response_id, demo.original_text, demo.review_status) == (
        "The answer.",
        None,
        "",
        "pending",
    )
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.SUBMITTED
    assert Task.objects.get(pk=lease.task_id).state == "done"


def test_editing_a_response_keeps_the_original(setup):
    _, alice, _, lease = setup
    source = Response.objects.filter(prompt_id=lease.task.prompt_id).first()
    demo, _ = demonstration_submit(
        task_id=lease.task_id, annotator=alice, text=source.text + " (fixed)", source_response_id=source.pk
    )
    assert demo.source_response_id == source.pk
    assert demo.original_text == source.text
    assert demo.text == source.text + " (fixed)"


def test_a_response_of_another_prompt_is_refused(setup):
    _, alice, _, lease = setup
    foreign = Response.objects.exclude(prompt_id=lease.task.prompt_id).first()
    for source_id in (foreign.pk, 10**12):
        with pytest.raises(ApiError) as caught:
            demonstration_submit(task_id=lease.task_id, annotator=alice, text="x", source_response_id=source_id)
        assert caught.value.get_codes() == "invalid_source"
    assert not Demonstration.objects.exists()


@pytest.mark.parametrize("text", ["", "   \n", None, 42])
def test_empty_text_is_refused(setup, text):
    _, alice, _, lease = setup
    with pytest.raises(ApiError) as caught:
        demonstration_submit(task_id=lease.task_id, annotator=alice, text=text)
    assert caught.value.get_codes() == "invalid_text"
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.ACTIVE


@pytest.mark.parametrize("time_spent_ms", [-5, 10**20, "7", True])
def test_bad_time_spent_is_refused(setup, time_spent_ms):
    _, alice, _, lease = setup
    with pytest.raises(ApiError) as caught:
        demonstration_submit(task_id=lease.task_id, annotator=alice, text="ok", time_spent_ms=time_spent_ms)
    assert caught.value.get_codes() == "invalid_time"
    assert not Demonstration.objects.exists()


def test_idempotent_replay_and_double_submit(setup):
    project, alice, _, lease = setup
    first, created = demonstration_submit(task_id=lease.task_id, annotator=alice, text="v1", idempotency_key="d-1")
    again, created_again = demonstration_submit(
        task_id=lease.task_id, annotator=alice, text="v2", idempotency_key="d-1"
    )
    assert created and not created_again and again.pk == first.pk and again.text == "v1"
    assert Task.objects.get(pk=lease.task_id).completed_count == 1
    with pytest.raises(Conflict) as caught:
        demonstration_submit(task_id=lease.task_id, annotator=alice, text="v3")
    assert caught.value.get_codes() == "already_submitted"
    other = task_assign_next(project=project, annotator=alice, kind="demonstration")
    with pytest.raises(Conflict) as caught:
        demonstration_submit(task_id=other.task_id, annotator=alice, text="v4", idempotency_key="d-1")
    assert caught.value.get_codes() == "idempotency_key_reused"
    with pytest.raises(ApiError) as caught:
        demonstration_submit(task_id=other.task_id, annotator=alice, text="v4", idempotency_key="x" * 129)
    assert caught.value.get_codes() == "invalid_key"
    assert Demonstration.objects.count() == 1


def test_who_may_submit(setup):
    _, alice, bob, lease = setup
    with pytest.raises(Forbidden):
        demonstration_submit(task_id=lease.task_id, annotator=bob, text="mine now")
    with pytest.raises(NotFound):
        demonstration_submit(task_id=lease.task_id, annotator=UserFactory(), text="outsider")
    with pytest.raises(NotFound):
        demonstration_submit(task_id=10**12, annotator=alice, text="nothing there")


def test_a_comparison_task_takes_no_demonstration():
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    with pytest.raises(ApiError) as caught:
        demonstration_submit(task_id=lease.task_id, annotator=alice, text="x")
    assert caught.value.get_codes() == "wrong_kind"


def test_review_accept_and_reject(setup):
    project, alice, _, _ = setup
    reviewer = member(project, "reviewer")
    demo = Demonstration.objects.get(pk=demonstrate(project, alice, "first").pk)
    accepted = demonstration_review(demonstration_id=demo.pk, reviewer=reviewer, decision="accepted")
    assert (accepted.review_status, accepted.reviewer, accepted.reviewed_at is not None) == ("accepted", reviewer, True)

    second = demonstrate(project, alice, "second")
    with pytest.raises(ApiError) as caught:
        demonstration_review(demonstration_id=second.pk, reviewer=reviewer, decision="rejected", comment="  ")
    assert caught.value.get_codes() == "comment_required"
    rejected = demonstration_review(
        demonstration_id=second.pk, reviewer=reviewer, decision="rejected", comment="Too vague."
    )
    assert (rejected.review_status, rejected.review_comment) == ("rejected", "Too vague.")
    with pytest.raises(ApiError) as caught:
        demonstration_review(demonstration_id=second.pk, reviewer=reviewer, decision="maybe")
    assert caught.value.get_codes() == "invalid_decision"


def test_who_may_review(setup):
    project, alice, bob, _ = setup
    demo = demonstrate(project, alice, "work")
    with pytest.raises(Forbidden) as caught:
        demonstration_review(demonstration_id=demo.pk, reviewer=bob, decision="accepted")  # an annotator
    assert caught.value.get_codes() == "role"
    with pytest.raises(NotFound):
        demonstration_review(demonstration_id=demo.pk, reviewer=UserFactory(), decision="accepted")
    with pytest.raises(NotFound):
        demonstration_review(demonstration_id=10**12, reviewer=EngineerFactory(), decision="accepted")
    # a reviewer who also annotates may not review their own work; staff may
    reviewer = member(project, "reviewer")
    own = demonstrate(project, reviewer, "reviewer's own")
    with pytest.raises(Forbidden) as caught:
        demonstration_review(demonstration_id=own.pk, reviewer=reviewer, decision="accepted")
    assert caught.value.get_codes() == "own_work"
    engineer = member(project, "engineer")
    assert demonstration_review(demonstration_id=own.pk, reviewer=engineer, decision="accepted").reviewer == engineer
    assert Demonstration.objects.get(pk=demo.pk).review_status == "pending"


def test_review_queue_hides_the_reviewers_own_work(setup):
    project, alice, _, _ = setup
    reviewer = member(project, "reviewer")
    demonstrate(project, alice, "by alice")
    demonstrate(project, reviewer, "by the reviewer")
    texts = [d["text"] for d in demonstrations_for_review(project=project, reviewer=reviewer)]
    assert texts == ["by alice"]
    staff_view = demonstrations_for_review(project=project, reviewer=EngineerFactory())
    assert sorted(d["text"] for d in staff_view) == ["by alice", "by the reviewer"]
    assert demonstrations_for_review(project=project, status="accepted") == []
