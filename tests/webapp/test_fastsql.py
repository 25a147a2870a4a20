"""webapp.fastsql: hand-written statements give the same values as the ORM, both ways."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from annotation.models import Assignment, Judgment
from tests.annotation.factories import lo_first, seeded_project
from webapp import fastsql

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_instance_equals_the_orms_row():
    from annotation.services import judgment_submit, task_assign_next

    project, (alice, _) = seeded_project(n=2, k=3)
    lease = task_assign_next(project=project, annotator=alice, kind="comparison")
    judgment, _ = judgment_submit(
        task_id=lease.task_id,
        annotator=alice,
        ranking=lo_first(lease),
        strength="clear",
        flags=["pii"],
        time_spent_ms=1234,
        idempotency_key="k-1",
    )
    for model, pk in ((Assignment, lease.pk), (Judgment, judgment.pk)):
        row = fastsql.fetchone(
            f"SELECT {fastsql.select_list(model)} FROM {fastsql.table(model)} WHERE {fastsql.q('id')} = %s", [pk]
        )
        mine, orm = fastsql.instance(model, row), model.objects.get(pk=pk)
        assert _fields(mine) == _fields(orm)
        assert not mine._state.adding
        assert timezone.is_aware(mine.created_at)


def test_insert_prepares_values_like_save():
    project, (alice, _) = seeded_project(n=1, k=2)
    task = project.tasks.filter(kind="comparison").first()
    now = timezone.now()
    values = {
        "task_id": task.pk,
        "annotator_id": alice.pk,
        "project_id_cache": project.pk,
        "kind": task.kind,
        "status": Assignment.Status.ACTIVE,
        "is_gold": False,
        "display_order": list(reversed(task.response_ids)),
        "expires_at": now + timedelta(minutes=5),
        "created_at": now,
    }
    stored = Assignment.objects.get(pk=fastsql.insert(Assignment, values))
    assert {k: getattr(stored, k) for k in values} == values
    assert stored.finished_at is None


def test_json_value_reads_text_and_decoded_values():
    assert fastsql.json_value("[[1], [2, 3]]") == [[1], [2, 3]]
    assert fastsql.json_value([[1]]) == [[1]]


@pytest.mark.skipif(settings.DATABASE_IS_SQLITE, reason="PostgreSQL only")
def test_hot_statements_are_prepared_on_postgresql_and_still_logged():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotation.services import task_assign_next

    project, (alice, _) = seeded_project(n=2, k=2)
    with CaptureQueriesContext(connection) as ctx:
        assert task_assign_next(project=project, annotator=alice, kind="comparison") is not None
    assert any("FOR UPDATE SKIP LOCKED" in q["sql"] for q in ctx.captured_queries)  # logged like the ORM's
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("SKIP LOCKED" in statement for statement in prepared), prepared


def test_a_statement_inside_another_gets_its_own_cursor():
    """The connection's reused cursor is never handed out twice at once: the outer result survives the inner."""
    with fastsql._cursor("SELECT 1 UNION ALL SELECT 2 ORDER BY 1", []) as outer:
        assert outer.fetchone()[0] == 1
        assert fastsql.fetchone("SELECT %s", [7])[0] == 7
        assert outer.fetchone()[0] == 2
    assert fastsql.fetchall("SELECT %s UNION ALL SELECT %s", [3, 4]) == [(3,), (4,)]


@pytest.mark.django_db(transaction=True)
def test_the_reused_cursor_follows_a_reconnect():
    from django.db import connection

    assert fastsql.fetchone("SELECT %s", [1])[0] == 1
    connection.close()
    assert fastsql.fetchone("SELECT %s", [2])[0] == 2
