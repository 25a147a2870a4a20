"""DRF token authentication with one hand-written query (token joined to its user) instead of an ORM lookup.

Every API request authenticates; DRF's own class builds and compiles a ``select_related`` query each time, which
cost more than the rest of a next-task request's SQL. Same semantics: unknown token or inactive user → 401.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from . import fastsql


@cache
def _sql(vendor: str) -> str:
    User = get_user_model()
    return (
        f"SELECT {fastsql.select_list(User, 'u')} FROM {fastsql.table(User)} u "
        f"JOIN {fastsql.table(Token)} t ON t.{fastsql.col(Token, 'user')} = u.{fastsql.col(User, 'id')} "
        f"WHERE t.{fastsql.col(Token, 'key')} = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        row = fastsql.fetchone(_sql(connection.vendor), [key])
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = fastsql.instance(get_user_model(), row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
