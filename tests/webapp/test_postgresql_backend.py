"""webapp.postgresql_backend: no health-check round trip right after a clean request; the check otherwise."""

import time

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connection

pytestmark = [
    pytest.mark.skipif(settings.DATABASE_IS_SQLITE, reason="the PostgreSQL backend only"),
    pytest.mark.django_db(transaction=True),  # the request cycle needs autocommit, as in production
]


@pytest.fixture
def checks(monkeypatch, settings):
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    connection.close()
    connection.ensure_connection()  # health_check_enabled is read from the settings at connect time
    calls = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or real())
    return calls


def _request(fail: bool = False) -> None:
    request_started.send(sender=None)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table" if fail else "SELECT 1")
    except DatabaseError:
        pass
    finally:
        request_finished.send(sender=None)


def test_a_request_right_after_a_clean_one_skips_the_check(checks, settings):
    settings.DATABASE_HEALTH_CHECK_GRACE = 1.0
    _request()
    checks.clear()
    for _ in range(3):
        _request()
    assert checks == []


def test_grace_zero_checks_every_request(checks, settings):
    settings.DATABASE_HEALTH_CHECK_GRACE = 0.0
    _request()
    checks.clear()
    for _ in range(3):
        _request()
    assert len(checks) == 3


def test_an_idle_connection_is_checked(checks, settings):
    settings.DATABASE_HEALTH_CHECK_GRACE = 1.0
    _request()
    connection._healthy_at = time.monotonic() - 5  # idle for longer than the grace
    checks.clear()
    _request()
    assert len(checks) == 1


def test_after_an_error_the_next_request_is_checked(checks, settings):
    settings.DATABASE_HEALTH_CHECK_GRACE = 1.0
    _request()
    _request(fail=True)  # the end of this request checks the connection (errors occurred) and keeps it
    checks.clear()
    _request()
    assert len(checks) == 1


def test_a_dead_connection_is_replaced_when_checked(checks, settings):
    settings.DATABASE_HEALTH_CHECK_GRACE = 1.0
    _request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    import psycopg

    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection._healthy_at = time.monotonic() - 5
    _request()  # the check fails, the connection is replaced, the query runs
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def _admin_dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} dbname=postgres"
