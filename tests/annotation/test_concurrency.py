"""20+ annotators hammer a live server backed by PostgreSQL: overlap is never exceeded, nothing lost or doubled."""

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from annotation.models import Assignment, Judgment, Task

from .factories import seeded_project

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANNOTATORS = 24
OVERLAP = 3
TASKS = 40


def _post(base: str, token: str, url: str, body: dict, key: str) -> httpx.Response:
    with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as client:
        return client.post(url, json=body, headers={"Idempotency-Key": key})


def _annotate(base: str, token: str, project_id: int, record: dict, errors: list) -> None:
    rng = random.Random(token)
    with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as client:
        while True:
            r = client.get(f"/api/v1/projects/{project_id}/tasks/next/", params={"kind": "comparison"})
            if r.status_code == 204:
                return
            if r.status_code != 200:
                errors.append(("next", r.status_code, r.text))
                return
            task = r.json()
            ranking = [resp["id"] for resp in task["responses"]]
            rng.shuffle(ranking)
            key = str(uuid.uuid4())
            body = {"ranking": ranking}
            url = f"/api/v1/tasks/{task['id']}/judgments/"
            if rng.random() < 0.25:  # a double-click: the same submit twice at the same moment
                with ThreadPoolExecutor(2) as pool:
                    both = list(pool.map(lambda _, u=url, b=body, k=key: _post(base, token, u, b, k), range(2)))
                statuses = sorted(r.status_code for r in both)
                if statuses != [200, 201] or both[0].json()["id"] != both[1].json()["id"]:
                    errors.append(("double", statuses, [r.text for r in both]))
                    return
                first = next(r for r in both if r.status_code == 201)
            else:
                first = client.post(url, json=body, headers={"Idempotency-Key": key})
            if first.status_code != 201:
                errors.append(("submit", first.status_code, first.text))
                return
            record.setdefault("submitted", []).append((task["id"], first.json()["id"]))
            if rng.random() < 0.5:  # the client retries as if the first response had been lost
                again = client.post(
                    f"/api/v1/tasks/{task['id']}/judgments/", json=body, headers={"Idempotency-Key": key}
                )
                if again.status_code != 200 or again.json()["id"] != first.json()["id"]:
                    errors.append(("retry", again.status_code, again.text))


def test_concurrent_annotators_never_exceed_overlap(live_server):
    assert connection.vendor == "postgresql"
    project, users = seeded_project(n=TASKS, k=2, annotators=ANNOTATORS, overlap=OVERLAP, task_kinds=["comparison"])
    tokens = [Token.objects.create(user=u).key for u in users]
    records = [{} for _ in users]
    errors: list = []
    threads = [
        threading.Thread(target=_annotate, args=(live_server.url, tok, project.pk, rec, errors))
        for tok, rec in zip(tokens, records, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "an annotator hung"
    assert errors == []

    submitted = [item for rec in records for item in rec.get("submitted", [])]
    # Every judgment the clients saw created exists exactly once; none was lost, none doubled.
    assert Judgment.objects.count() == len(submitted) == TASKS * OVERLAP
    assert len({jid for _, jid in submitted}) == len(submitted)
    per_task = Counter(Judgment.objects.values_list("task_id", flat=True))
    assert set(per_task.values()) == {OVERLAP}
    # Nobody judged (or was served) the same task twice.
    pairs = list(Assignment.objects.values_list("task_id", "annotator_id"))
    assert len(pairs) == len(set(pairs))
    assert not Assignment.objects.filter(status=Assignment.Status.ACTIVE).exists()
    for task in Task.objects.filter(project=project):
        assert task.assigned_count == task.completed_count == OVERLAP
        assert task.state == "done"
