"""The hot paths' statements (annotation/services/serving_sql.py): their plans stay index lookups, whatever the
database knows of the tables."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from annotation.models import Assignment, Judgment, Task, TaskState

from .factories import ProjectFactory, import_records, prompt_records, seeded_project

pytestmark = pytest.mark.django_db


def test_the_forward_query_seeks_the_serving_index_without_sorting():
    """The next-task query must stay an index seek in order_key order (a regression once made it sort every task)."""
    from annotation.services.serving_sql import serving as _sql

    project = ProjectFactory(task_kinds=["comparison"])
    import_records(project, prompt_records(50, k=2))
    params = [project.pk, "comparison", False, TaskState.OPEN, -(2**63)]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + _sql(connection.vendor)["forward"], params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert "task_serving" in plan, plan
            assert "TEMP B-TREE" not in plan.upper(), plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a 50-row table would not need the index otherwise
            # What runs on PostgreSQL: the forward step as one statement (lock, slot, lease, cursor).
            now = timezone.now()
            take = [0, TaskState.FULL, TaskState.OPEN, 1, 1, project.pk, "comparison", "active", now, now, 1]
            for name, values in (("forward", params), ("forward_take", params + take)):
                cursor.execute("EXPLAIN " + _sql(connection.vendor)[name], values)
                plan = " | ".join(row[0] for row in cursor.fetchall())
                assert "task_serving" in plan, (name, plan)
                assert "Sort" not in plan, (name, plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements' generic plans: PostgreSQL")
def test_hot_statements_generic_plans_stay_index_lookups_on_a_table_with_statistics():
    """The hot statements run prepared; after five runs PostgreSQL may switch to a generic plan, made without the
    values. On an analyzed table where nearly every lease is 'submitted', generic plans once scanned every lease per
    request (an EXISTS probe as a sequential scan, ORDER BY id walking the primary key), and the consensus read
    scanned every judgment. The forward step once read its task's response texts with a hash join over every
    response. Checked here with the generic plan forced, on statistics like production's."""
    from annotation.services.serving_sql import lease
    from annotation.services.serving_sql import serving as _sql

    project, (alice, _) = seeded_project(n=400, k=2, task_kinds=["comparison"])
    now = timezone.now()
    Assignment.objects.bulk_create(
        Assignment(
            task=task,
            annotator=alice,
            project_id_cache=project.pk,
            kind="comparison",
            status="submitted",
            is_gold=False,
            display_order=task.response_ids,
            expires_at=now,
            created_at=now,
            finished_at=now,
        )
        for task in Task.objects.filter(project=project)
    )
    Judgment.objects.bulk_create(
        Judgment(
            task_id=a.task_id,
            assignment=a,
            annotator=alice,
            ranking=[[i] for i in a.display_order],
            display_order=a.display_order,
            created_at=now,
        )
        for a in Assignment.objects.filter(annotator=alice)
    )
    from annotation.services.consensus import _sql as consensus_sql

    sql = {**_sql("postgresql"), "votes": consensus_sql("postgresql")["votes_one"], "lease": lease("postgresql")}
    later = now + timedelta(days=1)
    take = [0, TaskState.FULL, TaskState.OPEN, 1, 1, project.pk, "comparison", "active", later, later, 1]
    forward = [project.pk, "comparison", False, TaskState.OPEN, -(2**63)]
    cases = {
        "cursor": [now, now, project.pk, alice.pk, "comparison"],
        "active": [alice.pk, project.pk, "comparison", now],
        "expired_probe": [now],
        "forward": forward,
        "forward_take": forward + take,
        "votes": [False, Task.objects.filter(project=project).first().prompt_id],
        "lease": [Task.objects.filter(project=project).first().pk, alice.pk],
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE annotation_assignment, annotation_task, annotation_annotatorcursor, annotation_judgment, "
            "annotation_response, annotation_prompt"
        )
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for name, values in cases.items():
            text = sql[name]
            for i in range(1, text.count("%s") + 1):
                text = text.replace("%s", f"${i}", 1)
            cursor.execute(f"PREPARE plan_check_{name} AS {text}")
            marks = ", ".join(["%s"] * len(values))
            cursor.execute(f"EXPLAIN EXECUTE plan_check_{name}({marks})", values)
            plan = " | ".join(row[0] for row in cursor.fetchall())
            cursor.execute(f"DEALLOCATE plan_check_{name}")
            assert "Seq Scan on annotation_assignment" not in plan, (name, plan)
            for table in ("annotation_judgment", "annotation_response", "annotation_task", "annotation_prompt"):
                assert f"Seq Scan on {table}" not in plan, (name, plan)
            assert "annotation_assignment_pkey" not in plan, (name, plan)
            assert "Bitmap Index Scan on annotation_assignment_annotator_id" not in plan, (name, plan)
            if name == "expired_probe":
                assert "assignment_expiry" in plan, plan
            if name.startswith("forward"):
                assert "task_serving" in plan and "Sort" not in plan, (name, plan)
