"""Who may do what in a project. Engineers are staff users (they do everything) or project engineers.

Projects a user does not belong to are reported as missing (404), never as forbidden, so ids do not leak.
"""

from django.contrib.auth.models import AbstractBaseUser

from webapp.api_errors import Forbidden, NotFound

from .models import Membership, Project, Role


def role_in(user: AbstractBaseUser, project: Project) -> str | None:
    """The user's role in the project, or None; staff count as engineers everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return Role.ENGINEER
    cache = getattr(user, "_plumbline_roles", None)
    if cache is None:
        cache = user._plumbline_roles = {}
    if project.pk not in cache:
        cache[project.pk] = (
            Membership.objects.filter(project_id=project.pk, user_id=user.pk).values_list("role", flat=True).first()
        )
    return cache[project.pk]


def can_annotate(user: AbstractBaseUser, project: Project) -> bool:
    return role_in(user, project) is not None


def can_review(user: AbstractBaseUser, project: Project) -> bool:
    return role_in(user, project) in (Role.REVIEWER, Role.ENGINEER)


def can_manage(user: AbstractBaseUser, project: Project) -> bool:
    return role_in(user, project) == Role.ENGINEER


def project_for(user: AbstractBaseUser, project_id: int, *, need: str = "annotate") -> Project:
    """Load a project the user may see; raise 404 if they are no member, 403 if their role is too low."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None or role_in(user, project) is None:
        raise NotFound("No such project.")
    checks = {"annotate": can_annotate, "review": can_review, "manage": can_manage}
    if not checks[need](user, project):
        raise Forbidden(f"Your role in this project does not allow this (needs {need}).", code="role")
    return project
