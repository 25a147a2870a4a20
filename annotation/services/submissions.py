"""What judgment and demonstration submits share: idempotent replay and the answer when there is no lease."""

from typing import NoReturn

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from webapp.api_errors import Conflict, Forbidden, NotFound

from ..models import Task


def replay(model: type[Model], *, annotator: AbstractBaseUser, key: str | None, task_id: int) -> Model | None:
    """The submission this Idempotency-Key already made, if any; a key reused on another task is a 409."""
    if not key:
        return None
    existing = model.objects.filter(annotator=annotator, idempotency_key=key).first()
    if existing is not None and existing.task_id != task_id:
        raise Conflict("This Idempotency-Key was used for another task.", code="idempotency_key_reused")
    return existing


def no_lease(*, task_id: int, annotator: AbstractBaseUser) -> NoReturn:
    """404 for tasks outside the annotator's projects (ids do not leak), else 403."""
    if not annotator.is_staff and not Task.objects.filter(pk=task_id, project__memberships__user=annotator).exists():
        raise NotFound("No such task.")
    raise Forbidden("This task is not assigned to you.", code="not_assigned")
