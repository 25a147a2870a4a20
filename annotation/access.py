"""Who may do what in a project. Engineers are staff users (they do everything) or project engineers.

Projects a user does not belong to are reported as missing (404), never as forbidden, so ids do not leak.
"""

from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection

from webapp import fastsql
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


@cache
def _project_role_sql(vendor: str) -> str:
    m = fastsql.table(Membership)
    return (
        f"SELECT {fastsql.select_list(Project, 'p')}, m.{fastsql.col(Membership, 'role')} "
        f"FROM {fastsql.table(Project)} p LEFT JOIN {m} m "
        f"ON m.{fastsql.col(Membership, 'project')} = p.{fastsql.col(Project, 'id')} "
        f"AND m.{fastsql.col(Membership, 'user')} = %s WHERE p.{fastsql.col(Project, 'id')} = %s"
    )


def project_for(user: AbstractBaseUser, project_id: int, *, need: str = "annotate") -> Project:
    """Load a project the user may see; raise 404 if they are no member, 403 if their role is too low.

    One query (every API request of an annotator starts here): the project and the user's membership together.
    """
    if not user.is_authenticated or not 0 < project_id < 2**63:
        raise NotFound("No such project.")
    row = fastsql.fetchone(_project_role_sql(connection.vendor), [user.pk, project_id])
    if row is None:
        raise NotFound("No such project.")
    project = fastsql.instance(Project, row[:-1])
    if not user.is_staff:
        roles = getattr(user, "_plumbline_roles", None)
        if roles is None:
            roles = user._plumbline_roles = {}
        roles[project.pk] = row[-1]
    if role_in(user, project) is None:
        raise NotFound("No such project.")
    checks = {"annotate": can_annotate, "review": can_review, "manage": can_manage}
    if not checks[need](user, project):
        raise Forbidden(f"Your role in this project does not allow this (needs {need}).", code="role")
    return project
