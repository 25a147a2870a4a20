"""Shared pieces of the admin: read-only bases and the small helpers the changelists use."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import Truncator


def shorten(text: str, chars: int = 80) -> str:
    return Truncator(" ".join(text.split())).chars(chars)


def count_per(model, link: str):
    """Rows of ``model`` per project as a correlated subquery: one cheap count per listed project, no fan-out."""
    rows = model.objects.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n")), 0)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff, never added or edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
