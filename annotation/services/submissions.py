"""What judgment and demonstration submits share: idempotent replay and the answer when there is no lease."""

from typing import NoReturn

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from webapp import fastsql
from webapp.api_errors import Conflict, Forbidden, NotFound

from ..models import Task


def replay(model: type[Model], *, annotator: AbstractBaseUser, key: str | None, task_id: int) -> Model | None:
    """The submission this Idempotency-Key already made, if any; a key reused on another task is a 409."""
    if not key:
        return None
    sql = (
        f"SELECT {fastsql.select_list(model)} FROM {fastsql.table(model)} WHERE "
        f"{fastsql.col(model, 'annotator')} = %s AND {fastsql.col(model, 'idempotency_key')} = %s"
    )
    row = fastsql.fetchone(sql, [annotator.pk, key])  # on every submit: no ORM query to build (webapp/fastsql.py)
    existing = fastsql.instance(model, row) if row is not None else None
    if existing is not None and existing.task_id != task_id:
        raise Conflict("This Idempotency-Key was used for another task.", code="idempotency_key_reused")
    return existing


def no_lease(*, task_id: int, annotator: AbstractBaseUser) -> NoReturn:
    """404 for tasks outside the annotator's projects (ids do not leak), else 403."""
    if not annotator.is_staff and not Task.objects.filter(pk=task_id, project__memberships__user=annotator).exists():
        raise NotFound("No such task.")
    raise Forbidden("This task is not assigned to you.", code="not_assigned")
