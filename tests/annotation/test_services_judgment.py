"""judgment_submit: ranking/choice/criteria/flag validation, idempotency, and who may submit."""

import threading

import pytest
from django.db import connection, transaction

from annotation.models import Assignment, Judgment, PreferencePair, Task
from annotation.services import demonstration_submit, judgment_submit, task_assign_next
from annotation.services.judgments import normalize_ranking
from webapp.api_errors import ApiError, Conflict, Forbidden, NotFound

from .factories import ProjectFactory, UserFactory, import_records, member, seeded_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairwise():
    project, (alice, bob) = seeded_project(n=3, k=2, task_kinds=["comparison"], overlap=2)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    a, b = sorted(lease.task.response_ids)
    return project, alice, bob, lease, a, b


@pytest.fixture
def three_way():
    project, (alice, _) = seeded_project(n=2, k=3, task_kinds=["comparison"])
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    return project, alice, lease, sorted(lease.task.response_ids)


def _nothing_written(lease):
    assert not Judgment.objects.filter(assignment=lease).exists()
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.ACTIVE
    assert Task.objects.get(pk=lease.task_id).completed_count == 0


def test_a_valid_ranking_is_recorded_and_finishes_the_assignment(three_way):
    _, alice, lease, (a, b, c) = three_way
    judgment, created = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[c, a, b], time_spent_ms=1500)
    assert created
    assert judgment.ranking == [[c], [a], [b]]
    assert judgment.time_spent_ms == 1500
    assert judgment.display_order == lease.display_order
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.SUBMITTED and lease.finished_at is not None
    task = Task.objects.get(pk=lease.task_id)
    assert (task.completed_count, task.state) == (1, "done")


INVALID_RANKINGS = {
    "missing id": lambda a, b, c: [a, b],
    "duplicate id": lambda a, b, c: [a, b, b],
    "duplicate across groups": lambda a, b, c: [[a, b], [b, c]],
    "unknown id": lambda a, b, c: [a, b, c + 1000],
    "extra id": lambda a, b, c: [a, b, c, c + 1000],
    "empty": lambda a, b, c: [],
    "not a list": lambda a, b, c: {"best": a},
    "a string": lambda a, b, c: f"{a},{b},{c}",
    "string ids": lambda a, b, c: [str(a), str(b), str(c)],
    "float ids": lambda a, b, c: [float(a), b, c],
    "bool ids": lambda a, b, c: [True, b, c],
    "null entry": lambda a, b, c: [None, a, b, c],
    "empty group": lambda a, b, c: [[], a, b, c],
    "nested too deep": lambda a, b, c: [[[a]], b, c],
    "huge id": lambda a, b, c: [a, b, 10**40],
}


@pytest.mark.parametrize("make", INVALID_RANKINGS.values(), ids=INVALID_RANKINGS.keys())
def test_invalid_rankings_are_rejected_and_nothing_is_written(three_way, make):
    _, alice, lease, ids = three_way
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=make(*ids))
    assert caught.value.status_code == 400
    assert caught.value.get_codes() == "invalid_ranking"
    _nothing_written(lease)


def test_no_ranking_and_no_choice_is_rejected(three_way):
    _, alice, lease, _ = three_way
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice)
    assert caught.value.get_codes() == "invalid_ranking"


def test_ties_are_grouped_when_allowed(three_way):
    _, alice, lease, (a, b, c) = three_way
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[[b, c], a])
    assert judgment.ranking == [[b, c], [a]]


def test_ties_are_refused_when_the_project_forbids_them():
    project, (alice, _) = seeded_project(n=1, k=3, task_kinds=["comparison"], ties_allowed=False)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    a, b, c = sorted(lease.task.response_ids)
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[[a, b], c])
    assert caught.value.get_codes() == "ties_not_allowed"
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, choice="tie")
    assert caught.value.get_codes() == "invalid_choice"  # pairwise choice is for K=2 tasks
    _nothing_written(lease)
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[[a], b, [c]])
    assert judgment.ranking == [[a], [b], [c]]


def test_normalize_ranking_single_element_groups():
    assert normalize_ranking([[1], 2], [1, 2], ties_allowed=False) == [[1], [2]]


def test_pairwise_choice(pairwise):
    _, alice, _, lease, a, b = pairwise
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, choice=b, strength="strong")
    assert judgment.ranking == [[b], [a]]
    assert judgment.strength == "strong"


def test_pairwise_tie(pairwise):
    _, alice, _, lease, a, b = pairwise
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, choice="tie")
    assert len(judgment.ranking) == 1 and sorted(judgment.ranking[0]) == [a, b]


def test_pairwise_tie_refused_without_ties():
    project, (alice, _) = seeded_project(n=1, k=2, task_kinds=["comparison"], ties_allowed=False)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, choice="tie")
    assert caught.value.get_codes() == "ties_not_allowed"


@pytest.mark.parametrize("choice", ["a", "TIE", 0, 10**30, [1], {"id": 1}, 1.5], ids=repr)
def test_invalid_choices(pairwise, choice):
    _, alice, _, lease, _, _ = pairwise
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, choice=choice)
    assert caught.value.status_code == 400
    _nothing_written(lease)


def test_choice_on_a_k_way_task_is_refused(three_way):
    _, alice, lease, (a, _, _) = three_way
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, choice=a)
    assert caught.value.get_codes() == "invalid_choice"


@pytest.mark.parametrize("strength", ["slight", "clear", "strong", ""])
def test_strength_values(pairwise, strength):
    _, alice, _, lease, a, b = pairwise
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], strength=strength)
    assert judgment.strength == strength


def test_invalid_strength(pairwise):
    _, alice, _, lease, a, b = pairwise
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], strength="huge")
    assert caught.value.get_codes() == "invalid_strength"
    _nothing_written(lease)


def test_criteria_preferences_and_ratings_are_validated_and_stored(three_way):
    _, alice, lease, (a, b, c) = three_way
    criteria = {
        "helpfulness": {"ranking": [b, [a, c]]},
        "harmlessness": {"ratings": {str(a): 7, str(b): 1, c: 4}},
        "honesty": {"ranking": [a, b, c], "ratings": {str(a): 5}},
    }
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b, c], criteria=criteria)
    stored = Judgment.objects.get(pk=judgment.pk).criteria
    assert stored == {
        "helpfulness": {"ranking": [[b], [a, c]]},
        "harmlessness": {"ratings": {str(a): 7, str(b): 1, str(c): 4}},
        "honesty": {"ranking": [[a], [b], [c]], "ratings": {str(a): 5}},
    }


INVALID_CRITERIA = {
    "unknown criterion": lambda a, b, c: {"creativity": {"ranking": [a, b, c]}},
    "not an object": lambda a, b, c: ["helpfulness"],
    "entry not an object": lambda a, b, c: {"helpfulness": [a, b, c]},
    "entry without ranking or ratings": lambda a, b, c: {"helpfulness": {"score": 3}},
    "criterion ranking incomplete": lambda a, b, c: {"helpfulness": {"ranking": [a, b]}},
    "ratings not an object": lambda a, b, c: {"helpfulness": {"ratings": [7, 7, 7]}},
    "rating 0": lambda a, b, c: {"helpfulness": {"ratings": {str(a): 0}}},
    "rating 8": lambda a, b, c: {"helpfulness": {"ratings": {str(a): 8}}},
    "rating fractional": lambda a, b, c: {"helpfulness": {"ratings": {str(a): 3.5}}},
    "rating string": lambda a, b, c: {"helpfulness": {"ratings": {str(a): "5"}}},
    "rating bool": lambda a, b, c: {"helpfulness": {"ratings": {str(a): True}}},
    "rating unknown response": lambda a, b, c: {"helpfulness": {"ratings": {str(c + 99): 4}}},
}


@pytest.mark.parametrize("make", INVALID_CRITERIA.values(), ids=INVALID_CRITERIA.keys())
def test_invalid_criteria(three_way, make):
    _, alice, lease, (a, b, c) = three_way
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b, c], criteria=make(a, b, c))
    assert caught.value.status_code == 400
    assert caught.value.get_codes() in ("invalid_criteria", "invalid_ranking")
    _nothing_written(lease)


def test_criteria_ties_follow_the_project(three_way):
    project, alice, lease, (a, b, c) = three_way
    project.ties_allowed = False
    project.save()
    with pytest.raises(ApiError) as caught:
        judgment_submit(
            task_id=lease.task_id, annotator=alice, ranking=[a, b, c], criteria={"honesty": {"ranking": [[a, b], c]}}
        )
    assert caught.value.get_codes() == "ties_not_allowed"


def test_flags_rationale_and_time(pairwise):
    _, alice, _, lease, a, b = pairwise
    judgment, _ = judgment_submit(
        task_id=lease.task_id,
        annotator=alice,
        ranking=[a, b],
        flags=["unsafe", "pii", "unsafe", "prompt_broken"],
        rationale="B leaks an address.",
        time_spent_ms=0,
    )
    assert judgment.flags == ["pii", "prompt_broken", "unsafe"]
    assert judgment.rationale == "B leaks an address."
    assert judgment.time_spent_ms == 0


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("flags", ["spam"], "invalid_flags"),
        ("flags", "unsafe", "invalid_flags"),
        ("flags", [["unsafe"]], "invalid_flags"),
        ("time_spent_ms", -1, "invalid_time"),
        ("time_spent_ms", "12", "invalid_time"),
        ("time_spent_ms", 10**30, "invalid_time"),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_invalid_flags_and_time(pairwise, field, value, code):
    _, alice, _, lease, a, b = pairwise
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], **{field: value})
    assert caught.value.get_codes() == code
    _nothing_written(lease)


def test_idempotency_key_replay_returns_the_same_judgment_and_counts_once(pairwise):
    _, alice, _, lease, a, b = pairwise
    first, created = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], idempotency_key="k-1")
    assert created
    again, created = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[b, a], idempotency_key="k-1")
    assert not created and again.pk == first.pk and again.ranking == [[a], [b]]
    assert Judgment.objects.filter(task_id=lease.task_id).count() == 1
    task = Task.objects.get(pk=lease.task_id)
    assert (task.assigned_count, task.completed_count) == (1, 1)


def test_idempotency_key_reused_on_another_task_is_a_conflict(pairwise):
    project, alice, _, lease, a, b = pairwise
    judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], idempotency_key="k-1")
    other = task_assign_next(project=project, annotator=alice, kind="comparison")
    assert other.task_id != lease.task_id
    with pytest.raises(Conflict) as caught:
        judgment_submit(task_id=other.task_id, annotator=alice, ranking=other.task.response_ids, idempotency_key="k-1")
    assert caught.value.get_codes() == "idempotency_key_reused"
    _nothing_written(other)


def test_idempotency_keys_are_per_annotator(pairwise):
    project, alice, bob, lease, a, b = pairwise
    judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], idempotency_key="shared")
    bobs = task_assign_next(project=project, annotator=bob, kind="comparison")
    judgment, created = judgment_submit(
        task_id=bobs.task_id, annotator=bob, ranking=bobs.task.response_ids, idempotency_key="shared"
    )
    assert created and judgment.annotator == bob


def test_overlong_idempotency_key_is_a_clear_error(pairwise):
    _, alice, _, lease, a, b = pairwise
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], idempotency_key="k" * 500)
    assert caught.value.status_code == 400
    _nothing_written(lease)


def test_double_submit_without_key_is_a_conflict(pairwise):
    _, alice, _, lease, a, b = pairwise
    judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b])
    for key in (None, "fresh-key"):
        with pytest.raises(Conflict) as caught:
            judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[a, b], idempotency_key=key)
        assert caught.value.get_codes() == "already_submitted"
    assert Judgment.objects.filter(task_id=lease.task_id).count() == 1


def test_a_task_not_assigned_is_forbidden_to_members(pairwise):
    project, _alice, bob, lease, a, b = pairwise
    with pytest.raises(Forbidden) as caught:
        judgment_submit(task_id=lease.task_id, annotator=bob, ranking=[a, b])
    assert caught.value.get_codes() == "not_assigned"
    reviewer = member(project, "reviewer")
    with pytest.raises(Forbidden):
        judgment_submit(task_id=lease.task_id, annotator=reviewer, ranking=[a, b])


def test_a_task_of_another_project_is_not_found(pairwise):
    _, _, _, lease, a, b = pairwise
    elsewhere = ProjectFactory()
    outsider = member(elsewhere)  # a member of some project, not of this one
    with pytest.raises(NotFound):
        judgment_submit(task_id=lease.task_id, annotator=outsider, ranking=[a, b])
    with pytest.raises(NotFound):
        judgment_submit(task_id=lease.task_id, annotator=UserFactory(), ranking=[a, b])
    with pytest.raises(NotFound):
        judgment_submit(task_id=10**15, annotator=outsider, ranking=[a, b])
    _nothing_written(lease)


def test_a_demonstration_task_takes_no_judgment():
    project, (alice, _) = seeded_project(n=1, k=2, task_kinds=["demonstration"])
    lease = task_assign_next(project=project, annotator=alice, kind="demonstration")
    with pytest.raises(ApiError) as caught:
        judgment_submit(task_id=lease.task_id, annotator=alice, ranking=[1, 2])
    assert caught.value.get_codes() == "wrong_kind"


def test_gold_judgments_are_marked_and_leave_consensus_alone():
    project = ProjectFactory(gold_ratio=1.0, task_kinds=["comparison"])
    import_records(project, [{"prompt": "g", "responses": ["good", "bad"], "gold": {"ranking": [0, 1]}}])
    alice = member(project)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    judgment, _ = judgment_submit(task_id=lease.task_id, annotator=alice, ranking=lease.task.response_ids)
    assert judgment.is_gold
    assert not PreferencePair.objects.filter(project=project).exists()


@pytest.mark.django_db(transaction=True)
def test_submits_to_other_prompts_do_not_wait_for_an_open_submit():
    """Submits lock the lease and its prompt, never the whole project: while one annotator's submit transaction is
    still open, judgments and demonstrations on other prompts go through."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serializes every writer")
    project, (alice, bob) = seeded_project(n=3, annotators=2, task_kinds=["comparison", "demonstration"])
    lease_a = task_assign_next(project=project, annotator=alice, kind="comparison")
    lease_b = task_assign_next(project=project, annotator=bob, kind="comparison")
    demo_b = task_assign_next(project=project, annotator=bob, kind="demonstration")
    assert lease_a.task.prompt_id != lease_b.task.prompt_id
    holding, release, others_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def alice_holds() -> None:
        try:
            with transaction.atomic():
                judgment_submit(task_id=lease_a.task_id, annotator=alice, ranking=lease_a.task.response_ids)
                holding.set()
                release.wait(30)
        except BaseException as exc:
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    def bob_submits() -> None:
        try:
            holding.wait(10)
            judgment_submit(task_id=lease_b.task_id, annotator=bob, ranking=lease_b.task.response_ids)
            demonstration_submit(task_id=demo_b.task_id, annotator=bob, text="meanwhile")
            others_done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=alice_holds), threading.Thread(target=bob_submits)]
    for thread in threads:
        thread.start()
    finished_while_held = others_done.wait(12)
    release.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert finished_while_held, "bob's submits waited for alice's transaction"
    assert Judgment.objects.filter(task__project=project).count() == 2
