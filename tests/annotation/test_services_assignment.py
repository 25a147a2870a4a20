"""task_assign_next / task_skip / leases_expire: exact overlap, no repeats, leases, skips, gold, both phases."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation.models import Assignment, Judgment, Task, TaskState
from annotation.services import (
    demonstration_submit,
    judgment_submit,
    leases_expire,
    project_update,
    task_assign_next,
    task_skip,
)
from webapp.api_errors import Conflict, Forbidden, NotFound

from .factories import (
    ProjectFactory,
    UserFactory,
    fix_order,
    import_records,
    lo_first,
    member,
    prompt_records,
    seeded_project,
)

pytestmark = pytest.mark.django_db


def _next(project, user, kind="comparison"):
    return task_assign_next(project=project, annotator=user, kind=kind)


def _submit(assignment, user=None):
    judgment, created = judgment_submit(
        task_id=assignment.task_id, annotator=user or assignment.annotator, ranking=lo_first(assignment)
    )
    return judgment, created


def _expire(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _work_until_empty(project, users, kind="comparison"):
    """Round-robin: each user takes and submits tasks until nobody gets one."""
    active = list(users)
    while active:
        for user in list(active):
            assignment = _next(project, user, kind)
            if assignment is None:
                active.remove(user)
                continue
            if kind == "comparison":
                _submit(assignment, user)
            else:
                demonstration_submit(task_id=assignment.task_id, annotator=user, text=f"demo by {user.username}")


def test_overlap_is_exact_and_nobody_gets_a_task_twice():
    project, users = seeded_project(n=10, k=2, annotators=6, overlap=3, task_kinds=["comparison"])
    _work_until_empty(project, users)
    per_task = Counter(Judgment.objects.filter(task__project=project).values_list("task_id", flat=True))
    assert len(per_task) == 10 and set(per_task.values()) == {3}
    pairs = Judgment.objects.filter(task__project=project).values_list("task_id", "annotator_id")
    assert len(pairs) == len(set(pairs)) == 30
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {TaskState.DONE}
    assert all(t.assigned_count == t.completed_count == 3 for t in Task.objects.filter(project=project))
    for user in users:
        assert _next(project, user) is None


def test_open_leases_count_toward_overlap():
    project, users = seeded_project(n=1, k=2, annotators=4, overlap=2, task_kinds=["comparison"])
    first, second, third = (_next(project, u) for u in users[:3])
    assert first.task_id == second.task_id
    assert third is None
    task = Task.objects.get(project=project)
    assert (task.assigned_count, task.state) == (2, TaskState.FULL)


def test_active_lease_is_served_again_on_reload():
    project, (alice, _) = seeded_project(n=5, task_kinds=["comparison"])
    first = _next(project, alice)
    again = _next(project, alice)
    assert again.pk == first.pk and again.display_order == first.display_order
    assert Assignment.objects.filter(annotator=alice).count() == 1
    assert Task.objects.get(pk=first.task_id).assigned_count == 1


def test_display_order_is_a_recorded_permutation_of_the_task_responses():
    project, (alice, _) = seeded_project(n=1, k=3, task_kinds=["comparison"])
    assignment = _next(project, alice)
    assert sorted(assignment.display_order) == sorted(assignment.task.response_ids)
    assert Assignment.objects.get(pk=assignment.pk).display_order == assignment.display_order
    judgment, _ = _submit(assignment)
    assert judgment.display_order == assignment.display_order


def test_display_order_is_randomized():
    project = ProjectFactory(responses_per_comparison=3, task_kinds=["comparison"], overlap=40)
    import_records(project, prompt_records(1, k=3))
    orders = {tuple(_next(project, member(project)).display_order) for _ in range(30)}
    assert len(orders) > 1


def test_lease_expiry_returns_the_task_to_the_pool():
    project, (alice, bob) = seeded_project(n=1, task_kinds=["comparison"], lease_seconds=60)
    lease = _next(project, alice)
    assert lease.expires_at - lease.created_at == pytest.approx(timedelta(seconds=60), abs=timedelta(seconds=2))
    assert _next(project, bob) is None
    _expire(lease)
    bobs = _next(project, bob)
    assert bobs is not None and bobs.task_id == lease.task_id
    assert Assignment.objects.get(pk=lease.pk).status == Assignment.Status.EXPIRED
    # the slot went to bob, so alice's late submit is refused and nothing is recorded for her
    with pytest.raises(Conflict) as caught:
        _submit(lease, alice)
    assert caught.value.get_codes() == "lease_expired"
    assert not Judgment.objects.filter(annotator=alice).exists()
    assert Task.objects.get(pk=lease.task_id).assigned_count == 1


def test_an_expired_lease_can_still_submit_while_a_slot_is_free():
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    lease = _next(project, alice)
    _expire(lease)
    assert leases_expire() == 1
    task = Task.objects.get(pk=lease.task_id)
    assert (task.assigned_count, task.state) == (0, TaskState.OPEN)
    _judgment, created = _submit(lease, alice)
    assert created
    task.refresh_from_db()
    assert (task.assigned_count, task.completed_count, task.state) == (1, 1, TaskState.DONE)
    assert Assignment.objects.get(pk=lease.pk).status == Assignment.Status.SUBMITTED


def test_an_expired_lease_is_not_served_back_to_its_holder():
    project, (alice, _) = seeded_project(n=2, task_kinds=["comparison"])
    fix_order(project)
    lease = _next(project, alice)
    _expire(lease)
    following = _next(project, alice)
    assert following is not None and following.task_id != lease.task_id
    _submit(following, alice)
    assert _next(project, alice) is None


def test_leases_expire_is_cheap_and_idempotent():
    project, users = seeded_project(n=3, annotators=3, task_kinds=["comparison"])
    leases = [_next(project, u) for u in users]
    assert leases_expire() == 0
    for lease in leases[:2]:
        _expire(lease)
    assert leases_expire() == 2
    assert leases_expire() == 0
    assert Assignment.objects.filter(status=Assignment.Status.ACTIVE).count() == 1


def test_project_lease_seconds_falls_back_to_the_site_setting(settings):
    settings.ANNOTATION_LEASE_SECONDS = 123
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    lease = _next(project, alice)
    assert (lease.expires_at - timezone.now()).total_seconds() == pytest.approx(123, abs=3)


def test_skip_is_remembered_and_the_task_goes_to_others():
    project, (alice, bob) = seeded_project(n=2, task_kinds=["comparison"])
    fix_order(project)
    first = _next(project, alice)
    skipped = task_skip(task_id=first.task_id, annotator=alice)
    assert skipped.status == Assignment.Status.SKIPPED
    task = Task.objects.get(pk=first.task_id)
    assert (task.assigned_count, task.state) == (0, TaskState.OPEN)
    second = _next(project, alice)
    assert second.task_id != first.task_id
    _submit(second, alice)
    assert _next(project, alice) is None  # never served the skipped task again
    assert _next(project, bob).task_id == first.task_id


def test_skip_errors():
    project, (alice, bob) = seeded_project(n=2, task_kinds=["comparison"])
    lease = _next(project, alice)
    with pytest.raises(Forbidden):
        task_skip(task_id=lease.task_id, annotator=bob)
    task_skip(task_id=lease.task_id, annotator=alice)
    with pytest.raises(Conflict) as caught:
        task_skip(task_id=lease.task_id, annotator=alice)
    assert caught.value.get_codes() == "already_skipped"
    with pytest.raises(Conflict) as caught:
        _submit(lease, alice)
    assert caught.value.get_codes() == "skipped"


def test_skip_by_a_non_member_is_not_found():
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    lease = _next(project, alice)
    with pytest.raises(NotFound):
        task_skip(task_id=lease.task_id, annotator=UserFactory())
    with pytest.raises(NotFound):
        task_skip(task_id=10**12, annotator=alice)


def test_backward_phase_finds_tasks_reopened_behind_the_cursor():
    project, (alice, bob) = seeded_project(n=3, task_kinds=["comparison"])
    t1, t2, t3 = fix_order(project)
    a = _next(project, alice)
    assert a.task_id == t1.pk
    b = _next(project, bob)
    assert b.task_id == t2.pk  # bob's cursor is now past t1
    task_skip(task_id=t1.pk, annotator=alice)  # t1 reopens behind bob's cursor
    _submit(b, bob)
    assert _next(project, bob).task_id == t3.pk  # forward first
    _submit(Assignment.objects.get(annotator=bob, task=t3), bob)
    assert _next(project, bob).task_id == t1.pk  # then backward
    assert _next(project, alice) is None  # alice skipped t1; t2 and t3 are done


def test_backward_phase_is_not_blocked_by_a_task_that_stays_full():
    """A task whose overlap was lowered while leases were out must not hide open tasks behind it."""
    project, users = seeded_project(n=3, annotators=5, overlap=2, task_kinds=["comparison"])
    alice, bob, carol, dave, erin = users
    t, u, v = fix_order(project)
    assert _next(project, alice).task_id == t.pk
    bob_t = _next(project, bob)
    _submit(Assignment.objects.get(annotator=alice, task=t), alice)
    dave_u, erin_u = _next(project, dave), _next(project, erin)
    assert dave_u.task_id == erin_u.task_id == u.pk
    carol_v = _next(project, carol)
    assert carol_v.task_id == v.pk
    _submit(carol_v, carol)

    project = project_update(project=project, overlap=1)
    for lease in (bob_t, dave_u, erin_u):
        _expire(lease)
    leases_expire()
    t.refresh_from_db()
    assert t.state == TaskState.DONE  # one judgment is all overlap 1 wants
    u.refresh_from_db()
    assert (u.assigned_count, u.state) == (0, TaskState.OPEN)
    served = _next(project, carol)
    assert served is not None and served.task_id == u.pk


def test_backward_phase_skips_a_task_marked_open_without_a_free_slot():
    """Rows written before states were exact (open, yet full) must not stop the backward search."""
    project, (alice, bob, carol) = seeded_project(n=3, annotators=3, task_kinds=["comparison"])
    t, u, _v = fix_order(project)
    _submit(_next(project, alice), alice)  # t done
    bob_u = _next(project, bob)
    assert bob_u.task_id == u.pk
    _submit(_next(project, carol), carol)  # carol passes u (full) and does v
    task_skip(task_id=u.pk, annotator=bob)  # u reopens behind carol's cursor
    Task.objects.filter(pk=t.pk).update(state=TaskState.OPEN)  # stale state: completed 1 of overlap 1
    served = _next(project, carol)
    assert served is not None and served.task_id == u.pk


def test_lowering_overlap_keeps_states_exact():
    project, users = seeded_project(n=1, annotators=3, overlap=3, task_kinds=["comparison"])
    a, b = _next(project, users[0]), _next(project, users[1])
    _submit(a)
    project = project_update(project=project, overlap=2)
    task = Task.objects.get(project=project)
    assert task.state == TaskState.FULL
    _expire(b)
    leases_expire()
    task.refresh_from_db()
    assert (task.assigned_count, task.state) == (1, TaskState.OPEN)
    assert _next(project, users[2]).task_id == task.pk


def test_gold_is_served_at_ratio_one_and_takes_no_overlap_slot():
    project = ProjectFactory(gold_ratio=1.0, task_kinds=["comparison"], overlap=1)
    import_records(project, prompt_records(2, k=2))
    import_records(project, [{"id": "g", "prompt": "gold?", "responses": ["good", "bad"], "gold": {"ranking": [0, 1]}}])
    gold = Task.objects.get(project=project, is_gold=True)
    users = [member(project) for _ in range(3)]
    for user in users:
        lease = _next(project, user)
        assert lease.task_id == gold.pk and lease.is_gold
        judgment, _ = _submit(lease, user)
        assert judgment.is_gold
    gold.refresh_from_db()
    assert gold.completed_count == 3 and gold.state == TaskState.OPEN
    # after their gold item, the regular tasks are served with exact overlap 1
    regular = [_next(project, user) for user in users]
    assert sorted(a.task_id for a in regular if a) == sorted(
        Task.objects.filter(project=project, is_gold=False).values_list("pk", flat=True)
    )
    assert not any(a.is_gold for a in regular if a)
    assert sum(a is None for a in regular) == 1


def test_gold_is_never_served_at_ratio_zero():
    project = ProjectFactory(gold_ratio=0.0, task_kinds=["comparison"])
    import_records(project, [{"prompt": "gold?", "responses": ["good", "bad"], "gold": {"ranking": [0, 1]}}])
    assert _next(project, member(project)) is None


def test_gold_share_follows_the_ratio():
    project = ProjectFactory(gold_ratio=0.5, task_kinds=["comparison"], overlap=1)
    import_records(project, prompt_records(60, k=2))
    import_records(
        project,
        [{"prompt": f"gold {i}", "responses": ["good", "bad"], "gold": {"ranking": [0, 1]}} for i in range(60)],
    )
    user = member(project)
    served = []
    for _ in range(40):
        lease = _next(project, user)
        served.append(lease.is_gold)
        _submit(lease, user)
    assert 8 <= sum(served) <= 32


def test_nothing_left_returns_none():
    project, (alice, bob) = seeded_project(n=1, task_kinds=["comparison"])
    _submit(_next(project, alice), alice)
    assert _next(project, alice) is None
    assert _next(project, bob) is None
    empty = ProjectFactory()
    assert _next(empty, member(empty)) is None


def test_demonstration_tasks_use_demonstration_overlap():
    project, users = seeded_project(n=2, annotators=4, overlap=1, demonstration_overlap=3)
    _work_until_empty(project, users, kind="demonstration")
    _work_until_empty(project, users, kind="comparison")
    for task in Task.objects.filter(project=project):
        expected = 3 if task.kind == "demonstration" else 1
        assert task.completed_count == expected, task


def test_a_user_holds_one_lease_per_kind():
    project, (alice, _) = seeded_project(n=3)
    comparison, demonstration = _next(project, alice, "comparison"), _next(project, alice, "demonstration")
    assert comparison.kind == "comparison" and demonstration.kind == "demonstration"
    assert _next(project, alice, "comparison").pk == comparison.pk
    assert _next(project, alice, "demonstration").pk == demonstration.pk


def test_disabled_kind_is_refused():
    project, (alice, _) = seeded_project(n=1, task_kinds=["comparison"])
    with pytest.raises(Forbidden) as caught:
        _next(project, alice, "demonstration")
    assert caught.value.get_codes() == "kind_disabled"


def _queries_for_next(project, user) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert _next(project, user) is not None
    return len(ctx.captured_queries)


def test_serving_does_not_grow_with_the_project():
    small = ProjectFactory(task_kinds=["comparison"])
    import_records(small, prompt_records(5, k=2))
    large = ProjectFactory(task_kinds=["comparison"])
    import_records(large, prompt_records(1500, k=2))
    for project in (small, large):
        user = member(project)
        for _ in range(3):  # warm the cursor: the steady state matters
            _submit(_next(project, user), user)
    small_user, large_user = member(small), member(large)
    assert _queries_for_next(small, small_user) == _queries_for_next(large, large_user)
    with CaptureQueriesContext(connection) as ctx:
        _next(large, large_user)
    for query in ctx.captured_queries:
        assert "COUNT(" not in query["sql"].upper()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="asynchronous commit is a PostgreSQL setting")
@pytest.mark.parametrize("async_commit", [True, False])
def test_the_lease_transaction_commits_asynchronously_only_when_configured(settings, async_commit):
    settings.ANNOTATION_LEASE_ASYNC_COMMIT = async_commit
    project, (alice, _) = seeded_project(n=3, k=2)
    _submit(_next(project, alice))  # the first request creates the annotator's cursor row
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # a judgment's transaction waits for its flush
    assert _next(project, alice) is not None
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")  # (the test's transaction encloses the service's)
        assert cursor.fetchone()[0] == ("off" if async_commit else "on")
