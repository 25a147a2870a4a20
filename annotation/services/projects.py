"""Creating projects, changing their settings and members."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Case, Value, When

from webapp.api_errors import ApiError

from ..models import Membership, Project, Role, Task, TaskState

EDITABLE_FIELDS = (
    "name",
    "guidelines",
    "task_kinds",
    "responses_per_comparison",
    "overlap",
    "demonstration_overlap",
    "criteria",
    "criteria_mode",
    "ties_allowed",
    "gold_ratio",
    "split_ratios",
    "lease_seconds",
)
# A month. Longer leases only hide tasks from everyone else, and far-out expiry dates overflow datetime when a task
# is served (the model field alone accepts any 64-bit value on SQLite).
MAX_LEASE_SECONDS = 30 * 24 * 3600


def _full_clean(project: Project) -> None:
    project.full_clean()
    if project.lease_seconds is not None and project.lease_seconds > MAX_LEASE_SECONDS:
        raise DjangoValidationError({"lease_seconds": [f"Ensure this value is at most {MAX_LEASE_SECONDS} seconds."]})


@transaction.atomic
def project_create(*, name: str, created_by: AbstractBaseUser | None = None, **fields: Any) -> Project:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApiError(f"Unknown project fields: {', '.join(sorted(unknown))}.")
    if Project.objects.filter(name=name).exists():
        raise ApiError(f"A project named {name!r} exists already.", code="duplicate")
    project = Project(name=name, created_by=created_by, **fields)
    _full_clean(project)
    project.save()
    if created_by is not None and not created_by.is_staff:
        Membership.objects.create(project=project, user=created_by, role=Role.ENGINEER)
    return project


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    """Change settings; a new overlap reopens or closes tasks so serving stays exact."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApiError(f"Unknown project fields: {', '.join(sorted(unknown))}.")
    project = Project.objects.select_for_update().get(pk=project.pk)
    for key, value in fields.items():
        setattr(project, key, value)
    _full_clean(project)
    project.save()
    for kind in ("comparison", "demonstration"):
        overlap = project.overlap_for(kind)
        Task.objects.filter(project=project, kind=kind, is_gold=False).update(
            state=Case(
                When(completed_count__gte=overlap, then=Value(TaskState.DONE)),
                When(assigned_count__gte=overlap, then=Value(TaskState.FULL)),
                default=Value(TaskState.OPEN),
            )
        )
    return project


@transaction.atomic
def membership_set(*, project: Project, username: str, role: str) -> Membership:
    if role not in Role.values:
        raise ApiError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.", code="invalid_role")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApiError(f"No user named {username!r}.", code="unknown_user")
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership
