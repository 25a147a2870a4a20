"""The Django side of bench/annotation_load.py: stages that run in a subprocess with the backend's environment.

``python bench/annotation_load_stages.py --stage setup|probe|verify --stage-in IN.json --stage-out OUT.json``
(harness.run_stage does this): setup builds the database, users, tokens and projects through the real services;
probe times the next-task service in-process and records a request's SQL; verify checks the database afterwards.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


def stage_setup(p: dict) -> dict:
    harness.django_setup()
    import orjson
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotation.models import Membership, Role
    from annotation.services import project_create, prompts_import

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings = {"migrate_s": round(time.perf_counter() - t, 2)}

    User = get_user_model()
    password = make_password("bench-password-1")  # hashed once: 1M PBKDF2 rounds per user would dominate setup
    names = [f"bench{i:03d}" for i in range(p["annotators"])] + [f"probe{i}" for i in range(p["probe_users"])]
    User.objects.bulk_create([User(username=n, password=password) for n in names])
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    Token.objects.bulk_create([Token(key=Token.generate_key(), user=u) for u in users.values()])
    tokens = dict(Token.objects.values_list("user__username", "key"))

    def make_project(name: str, tasks: int, overlap: int, members: list[str]) -> int:
        project = project_create(name=name, task_kinds=["comparison"], overlap=overlap, responses_per_comparison=2)
        lines = [
            orjson.dumps(
                {
                    "id": f"{name}-{i}",
                    "prompt": f"[{name}] Question {i}: explain the idea behind item {i} in one paragraph.",
                    "responses": [
                        f"A first candidate answer to question {i}, a couple of sentences long, as models write.",
                        f"A second candidate answer to question {i}, also a couple of sentences, worded differently.",
                    ],
                }
            )
            + b"\n"
            for i in range(tasks)
        ]
        t = time.perf_counter()
        summary = prompts_import(project=project, lines=lines)
        elapsed = time.perf_counter() - t
        timings[f"import_{name}_s"] = round(elapsed, 2)
        timings[f"import_{name}_prompts_per_s"] = round(tasks / elapsed)
        assert summary.tasks_created == tasks, summary.as_dict()
        Membership.objects.bulk_create(
            [Membership(project=project, user=users[n], role=Role.ANNOTATOR) for n in members]
        )
        return project.pk

    bench_users = names[: p["annotators"]]
    probe_users = names[p["annotators"] :]
    out = {"projects": {}, "timings": timings}
    out["projects"]["load"] = make_project("load", p["tasks"], p["overlap"], bench_users)
    if p["ratio"]:
        # Overlap = the number of probe users: each gets the whole project (the HTTP probe must not use up the
        # small project's tasks before the in-process probe's user starts).
        out["projects"]["small"] = make_project("small", p["ratio_small"], len(probe_users), probe_users)
        out["projects"]["large"] = make_project("large", p["ratio_large"], len(probe_users), probe_users)
    out["users"] = [{"username": n, "token": tokens[n]} for n in bench_users]
    out["probe_users"] = [{"username": n, "token": tokens[n]} for n in probe_users]
    return out


def stage_probe(p: dict) -> dict:
    """In-process: next-task service time in the small vs the large project, and SQL queries per request."""
    harness.django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from annotation.models import Project
    from annotation.services import judgment_submit, task_assign_next

    user = get_user_model().objects.get(username=p["user"])
    projects = {name: Project.objects.get(pk=pk) for name, pk in p["projects"].items()}
    times: dict[str, list[float]] = {name: [] for name in projects}
    for _ in range(p["iterations"]):
        for name, project in projects.items():  # interleaved, so background load hits both alike
            t = time.perf_counter()
            a = task_assign_next(project=project, annotator=user, kind="comparison")
            times[name].append((time.perf_counter() - t) * 1000)
            judgment_submit(task_id=a.task_id, annotator=user, ranking=list(a.display_order))
    out = {f"{name}_p50_ms": round(harness.percentile(v, 50), 3) for name, v in times.items()}
    out["ratio_p50"] = round(out["large_p50_ms"] / out["small_p50_ms"], 3)

    client = Client(HTTP_AUTHORIZATION=f"Token {p['token']}")
    pid = projects["large"].pk
    queries = {}
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(f"/api/v1/projects/{pid}/tasks/next/?kind=comparison")
    assert r.status_code == 200, r.content
    queries["next"] = [q["sql"] for q in ctx.captured_queries]
    task = r.json()
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(
            f"/api/v1/tasks/{task['id']}/judgments/",
            {"ranking": [x["id"] for x in task["responses"]]},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="probe-1",
        )
    assert r.status_code == 201, r.content
    queries["submit"] = [q["sql"] for q in ctx.captured_queries]
    out["queries_per_request"] = {k: len(v) for k, v in queries.items()}
    out["queries"] = queries
    return out


def stage_verify(p: dict) -> dict:
    """Check exact overlap and exactly-once judgments from the database, against what the clients saw."""
    harness.django_setup()
    from django.db.models import Count, Q

    from annotation.models import Assignment, Judgment, PreferencePair, Task

    pid, overlap = p["project"], p["overlap"]
    live_status = [Assignment.Status.ACTIVE, Assignment.Status.SUBMITTED]
    live = dict(
        Assignment.objects.filter(task__project_id=pid)
        .values("task_id")
        .annotate(n=Count("id", filter=Q(status__in=live_status)))
        .values_list("task_id", "n")
    )
    judged = dict(
        Judgment.objects.filter(task__project_id=pid)
        .values("task_id")
        .annotate(n=Count("id"))
        .values_list("task_id", "n")
    )
    counters = Task.objects.filter(project_id=pid).values_list("id", "assigned_count", "completed_count")
    out = {
        "tasks_over_overlap_live": sum(1 for n in live.values() if n > overlap),
        "tasks_over_overlap_judgments": sum(1 for n in judged.values() if n > overlap),
        "slot_counter_mismatch": sum(1 for tid, a, c in counters if a != live.get(tid, 0) or c != judged.get(tid, 0)),
        "duplicate_assignments": Assignment.objects.filter(task__project_id=pid)
        .values("task_id", "annotator_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "duplicate_judgments": Judgment.objects.filter(task__project_id=pid)
        .values("task_id", "annotator_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "judgments_in_db": sum(judged.values()),
        "judgments_acknowledged_201": p["acknowledged"],
        "prompts_judged": Judgment.objects.filter(task__project_id=pid).values("task__prompt_id").distinct().count(),
        "preference_pairs": PreferencePair.objects.filter(project_id=pid).count(),
    }
    # What the clients saw: a task served again to someone who had submitted it, or to more annotators than overlap.
    served_to: dict[int, set[str]] = {}
    for user, served in p["served"].items():
        for task_id in served:
            served_to.setdefault(task_id, set()).add(user.split("@")[0])
    out["served_again_after_submit"] = p["served_again"]
    out["tasks_served_to_more_than_overlap"] = sum(1 for users in served_to.values() if len(users) > overlap)
    out["double_served"] = (
        out["tasks_over_overlap_live"]
        + out["tasks_over_overlap_judgments"]
        + out["duplicate_assignments"]
        + out["served_again_after_submit"]
        + out["tasks_served_to_more_than_overlap"]
    )
    out["ok"] = (
        out["double_served"] == 0
        and out["slot_counter_mismatch"] == 0
        and out["duplicate_judgments"] == 0
        and out["judgments_in_db"] == out["judgments_acknowledged_201"]
        and out["preference_pairs"] == out["prompts_judged"]
    )
    return out


STAGES = {"setup": stage_setup, "probe": stage_probe, "verify": stage_verify}


if __name__ == "__main__":
    harness.stage_main(STAGES, __doc__)
