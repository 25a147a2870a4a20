"""``manage.py seed_demo``: demo users, two demo projects with prompts, candidate responses and gold items.

Safe to re-run (``make demo`` runs it every time): users and projects are found by name, prompts are re-imported
by id (the import merges them) and tokens are reused, so a second run changes nothing but the demo passwords,
which it sets back to the printed ones.

Candidates come from ``handwritten_candidates``; a later source (a model's generations) only has to return the same
shape, ``[{"text", "model"?, "generation_params"?}, ...]`` best first, and be passed as ``candidates=``.
"""

import os
import random
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from ...models import Project, Role
from ...services import membership_set, project_create, prompts_import
from ..demo_data import ITEMS

DEMO_PASSWORD = "plumbline-demo"
DEMO_USERS = [  # username, is staff and superuser, project role
    ("engineer", True, Role.ENGINEER),
    ("reviewer", False, Role.REVIEWER),
    ("annotator1", False, Role.ANNOTATOR),
    ("annotator2", False, Role.ANNOTATOR),
]

GUIDELINES = """\
# Helpful assistant: guidelines

You compare answers an assistant gave to a user, or write the answer it *should* have given.

## Comparing responses
Pick the response you would rather receive. Judge, in this order:

1. **Harmlessness**: does it avoid helping with something dangerous or illegal, and warn where safety matters?
2. **Honesty**: is it correct? Does it admit uncertainty and correct false premises instead of inventing facts?
3. **Helpfulness**: does it answer the actual question, completely and clearly, at the right length?

Use **tie** only when you truly cannot prefer one. Use *strength* to say how sure you are:
slight, clear, or much better. Check code carefully: a confident answer with a bug is worse than a plain one
that works.

## Writing demonstrations
Write the reply you would want a great assistant to give. Start from a response when one is close, and fix it.
Use Markdown: fenced code blocks with a language, short lists where they help.

## Flags
Flag **unsafe** content, personal data (**PII**), or a **broken prompt** instead of judging around it.
"""

RANKING_GUIDELINES = """\
# Ranking three answers

Order the three responses from best to worst (ties allowed). Rate each criterion from 1 (poor) to 7 (excellent).
Correctness comes first: an answer that is wrong ranks below an answer that is incomplete.
"""

ASSISTANT_PROJECT = {
    "name": "Demo: helpful assistant",
    "guidelines": GUIDELINES,
    "criteria": ["helpfulness", "harmlessness", "honesty"],
    "task_kinds": ["comparison", "demonstration"],
    "responses_per_comparison": 2,
    "overlap": 2,
    "gold_ratio": 0.1,
}
RANKING_PROJECT = {
    "name": "Demo: rank three answers",
    "guidelines": RANKING_GUIDELINES,
    "criteria": ["correctness", "clarity"],
    "criteria_mode": "rating",
    "task_kinds": ["comparison"],
    "responses_per_comparison": 3,
    "overlap": 2,
    "gold_ratio": 0.15,
}
# Items whose known best-first order becomes a gold answer (they need exactly K candidates in that project).
ASSISTANT_GOLD = {"demo-explain-compound-interest", "demo-math-probability", "demo-safety-chemicals"}
RANKING_GOLD = {"demo-honesty-great-wall", "demo-explain-seasons"}

CandidateSource = Callable[[dict[str, Any]], list[dict[str, Any]]]


def handwritten_candidates(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo's hand-written candidates, best first."""
    return [{"text": text} for text in item["candidates"]]


def demo_records(
    items: list[dict[str, Any]], *, k: int, gold: set[str], candidates: CandidateSource
) -> list[dict[str, Any]]:
    """Import lines for one project: candidates in a fixed shuffled order, gold answers from the known order.

    The shuffle is seeded by the item id, so re-running produces the same lines (and the import merges them).
    """
    records = []
    for item in items:
        best_first = candidates(item)
        order = list(range(len(best_first)))
        random.Random(item["id"]).shuffle(order)
        record = {key: item[key] for key in ("id", "prompt", "messages") if key in item}
        record["metadata"] = {"topic": item["topic"], "demo": True}
        record["responses"] = [best_first[i] for i in order]
        if item["id"] in gold:
            if len(best_first) != k:
                raise CommandError(f"Gold item {item['id']} needs exactly {k} candidates.")
            record["gold"] = {"ranking": [order.index(rank) for rank in range(k)]}
        records.append(record)
    return records


def _jsonl(records: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(record) + b"\n" for record in records]


class Command(BaseCommand):
    help = "Create demo users and two demo projects (safe to re-run); prints the logins and API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the web server will listen.")
        parser.add_argument(
            "--force", action="store_true", help="Run even under production settings (creates known passwords)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Under override_settings SETTINGS_MODULE reads None, so fall back to the environment.
        module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
        if module.endswith(".production") and not options["force"]:
            raise CommandError("seed_demo creates users with known passwords; pass --force to run it in production.")
        with transaction.atomic():
            users = self._users()
            assistant = self._project(ASSISTANT_PROJECT, users, ITEMS, ASSISTANT_GOLD, handwritten_candidates)
            three = [item for item in ITEMS if len(item["candidates"]) == RANKING_PROJECT["responses_per_comparison"]]
            ranking = self._project(RANKING_PROJECT, users, three, RANKING_GOLD, handwritten_candidates)
        self._report(users, [assistant, ranking], options["url"].rstrip("/"))

    def _users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {}
        for username, is_engineer, _role in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.invalid"})
            user.is_staff = user.is_superuser = is_engineer
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            Token.objects.get_or_create(user=user)
            users[username] = user
        return users

    def _project(self, spec, users, items, gold, candidates: CandidateSource) -> tuple[Project, dict[str, int]]:
        project = Project.objects.filter(name=spec["name"]).first()
        if project is None:
            project = project_create(created_by=users["engineer"], **spec)
        for username, _is_engineer, role in DEMO_USERS:
            membership_set(project=project, username=username, role=role)
        records = demo_records(items, k=project.responses_per_comparison, gold=gold, candidates=candidates)
        summary = prompts_import(project=project, lines=_jsonl(records))
        return project, summary.as_dict()

    def _report(self, users, projects, url: str) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS("Demo data is ready."))
        write(f"\nLogins (password for every demo user: {DEMO_PASSWORD}):")
        for username, is_engineer, _role in DEMO_USERS:
            kind = "engineer (staff, superuser)" if is_engineer else _role.label.lower()
            token = Token.objects.get(user=users[username]).key
            write(f"  {username:<11} {kind:<28} API token {token}")
        write("\nProjects:")
        for project, counts in projects:
            write(
                f"  #{project.pk} {project.name}: {project.prompts.count()} prompts, {project.tasks.count()} tasks "
                f"(this run: +{counts['prompts_created']} prompts, +{counts['responses_created']} responses, "
                f"+{counts['tasks_created']} tasks)"
            )
        write(f"\nOpen {url}/ and log in; admin: {url}/admin/, API docs: {url}/api/docs/")
        write(f'API example: curl -H "Authorization: Token <token>" {url}/api/v1/projects/')
