"""Which projects a user sees."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..models import Project


def projects_for(user: AbstractBaseUser) -> QuerySet[Project]:
    if user.is_staff:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()
