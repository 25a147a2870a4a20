"""Factories for the annotation app, plus helpers that build a project with imported prompts."""

import factory
import orjson
from django.contrib.auth import get_user_model

from annotation.models import Membership, Project, Role
from annotation.services import prompts_import


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


def seeded_project(n: int = 5, k: int = 2, annotators: int = 2, **project_fields) -> tuple[Project, list]:
    project = ProjectFactory(responses_per_comparison=k, **project_fields)
    prompts_import(project=project, lines=jsonl(prompt_records(n, k)).splitlines(keepends=True))
    users = [MembershipFactory(project=project).user for _ in range(annotators)]
    return project, users
