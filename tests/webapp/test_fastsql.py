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


postgresql_only = pytest.mark.skipif(settings.DATABASE_IS_SQLITE, reason="PostgreSQL only")


def _traced(run) -> str:
    """libpq's protocol trace (psycopg's C binding) of what ``run()`` sends and receives."""
    import tempfile

    from django.db import connection

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as fh:
        pgconn.trace(fh.fileno())
        try:
            run()
        finally:
            pgconn.untrace()
        fh.seek(0)
        return fh.read()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_transactions_begin_travels_with_its_first_statement():
    from django.db import connection, transaction

    def work():
        with transaction.atomic():
            assert fastsql.fetchone("SELECT %s::int", [5])[0] == 5
            assert fastsql.fetchone("SELECT %s::int", [6])[0] == 6

    trace = _traced(work)
    lines = [line.split("\t") for line in trace.splitlines()]
    sent = [(parts[3].strip(), parts[4] if len(parts) > 4 else "") for parts in lines if parts[1] == "F"]
    syncs = [i for i, (kind, _) in enumerate(sent) if kind == "Sync"]
    assert len(syncs) == 2, sent  # two round trips for the two statements: BEGIN rode with the first
    first = sent[: syncs[0]]
    assert any("BEGIN" in body for kind, body in first if kind == "Parse"), first
    assert sum(kind == "Execute" for kind, _ in first) == 2, first
    assert sent[-1] == ("Query", ' "COMMIT"'), sent  # Django's commit at the block's exit, as ever
    assert connection.connection.autocommit and connection.get_autocommit()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_transaction_begun_with_its_statement_commits_and_rolls_back_whole():
    from django.db import IntegrityError, connection, transaction

    fastsql.execute("CREATE TEMP TABLE fastsql_tx (v int)", [])
    with transaction.atomic():
        fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [1])
        assert connection.connection.pgconn.transaction_status != 0  # the server's transaction is open
        with transaction.atomic():  # a savepoint inside it
            fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [2])
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [3])
            1 / 0  # noqa: B018
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [4])
        fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [5])
        1 / 0  # noqa: B018
    fastsql.execute("CREATE UNIQUE INDEX ON fastsql_tx (v)", [])
    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [1])  # fails in the round trip that carries BEGIN
    assert fastsql.fetchall("SELECT v FROM fastsql_tx ORDER BY v", []) == [(1,), (2,)]
    assert connection.connection.autocommit and connection.get_autocommit()
    fastsql.execute("INSERT INTO fastsql_tx VALUES (%s)", [9])  # autocommit again: kept without a transaction
    connection.connection.rollback()
    assert fastsql.fetchone("SELECT count(*) FROM fastsql_tx WHERE v = %s", [9])[0] == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_transactions_managed_by_hand_are_left_to_psycopg():
    from django.db import connection, transaction

    fastsql.execute("CREATE TEMP TABLE fastsql_hand (v int)", [])
    transaction.set_autocommit(False)
    try:
        with transaction.atomic():  # inside a transaction the caller ends: not ours to begin
            fastsql.execute("INSERT INTO fastsql_hand VALUES (%s)", [1])
        assert connection.connection.autocommit is False
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert fastsql.fetchone("SELECT count(*) FROM fastsql_hand", [])[0] == 0
