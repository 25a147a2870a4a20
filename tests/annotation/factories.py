"""Factories for the annotation app, plus helpers that build a project with imported prompts and real judgments.

Everything goes through the services (import, assignment, submit), so tests exercise the same paths users do.
"""

import factory
import orjson
from django.contrib.auth import get_user_model

from annotation.models import Assignment, Membership, Project, Role, Task
from annotation.services import demonstration_submit, judgment_submit, prompts_import, task_assign_next


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-plumbline-1")


class EngineerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"engineer{n}")
    is_staff = True
    is_superuser = True


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project {n}")
    overlap = 1
    responses_per_comparison = 2
    gold_ratio = 0.0


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ANNOTATOR


def jsonl(records: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def prompt_records(n: int, k: int = 2, prefix: str = "p") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "prompt": f"Question {prefix}{i}?",
            "responses": [f"answer {j} to {prefix}{i}" for j in range(k)],
        }
        for i in range(n)
    ]


def import_records(project: Project, records: list[dict]):
    return prompts_import(project=project, lines=jsonl(records).splitlines(keepends=True))


def seeded_project(n: int = 5, k: int = 2, annotators: int = 2, **project_fields) -> tuple[Project, list]:
    project = ProjectFactory(responses_per_comparison=k, **project_fields)
    import_records(project, prompt_records(n, k))
    users = [MembershipFactory(project=project).user for _ in range(annotators)]
    return project, users


def member(project: Project, role: str = Role.ANNOTATOR, username: str | None = None):
    """A new user with the given role in the project."""
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(project=project, user=user, role=role)
    return user


def fix_order(project: Project) -> list[Task]:
    """Give the project's tasks the serving order of their ids, so tests can say which task comes next."""
    tasks = list(Task.objects.filter(project=project).order_by("id"))
    for i, task in enumerate(tasks):
        task.order_key = i
    Task.objects.bulk_update(tasks, ["order_key"])
    return tasks


def lo_first(assignment: Assignment) -> list[int]:
    """The ranking that puts the task's responses in ascending id order (the lowest id wins)."""
    return sorted(assignment.task.response_ids)


def hi_first(assignment: Assignment) -> list[int]:
    return sorted(assignment.task.response_ids, reverse=True)


def judge(project: Project, user, ranking=lo_first, kind: str = "comparison", **body):
    """Serve the user's next task and submit ``ranking(assignment)`` (a function or a literal); returns the judgment."""
    assignment = task_assign_next(project=project, annotator=user, kind=kind)
    assert assignment is not None, f"{user} got no task"
    value = ranking(assignment) if callable(ranking) else ranking
    judgment, created = judgment_submit(task_id=assignment.task_id, annotator=user, ranking=value, **body)
    assert created
    return judgment


def demonstrate(project: Project, user, text: str = "An ideal answer.", **body):
    assignment = task_assign_next(project=project, annotator=user, kind="demonstration")
    assert assignment is not None, f"{user} got no demonstration task"
    demonstration, created = demonstration_submit(task_id=assignment.task_id, annotator=user, text=text, **body)
    assert created
    return demonstration
