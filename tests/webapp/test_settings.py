"""Settings come from the environment: production is locked down, the embedded default needs no servers.

Each case loads the settings in a fresh interpreter with a controlled environment, because settings are read once
per process and the test run's own environment (DATABASE_URL, REDIS_URL) must not leak in.
"""

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

DUMP_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""), "port": db.get("PORT", ""),
    "user": db.get("USER", ""), "init_command": db.get("OPTIONS", {}).get("init_command", ""),
    "broker": s.CELERY_BROKER_URL, "results": s.CELERY_RESULT_BACKEND,
    "transport": getattr(s, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    "cache": s.CACHES["default"]["BACKEND"], "cache_location": s.CACHES["default"].get("LOCATION", ""),
    "artifacts": str(s.ARTIFACTS_ROOT), "debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS,
}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment without any of our settings variables, plus ``extra``."""
    ours = ("DATABASE_URL", "REDIS_URL", "DJANGO_", "ARTIFACTS_ROOT", "PLUMBLINE_", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["PLUMBLINE_VAR_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def load_settings(env: dict[str, str]) -> dict:
    result = python(env, "-c", DUMP_SETTINGS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    production = {
        "DJANGO_SETTINGS_MODULE": "webapp.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "plumbline.example.com",
    }
    return clean_env(tmp_path, **{**production, **extra})


def test_check_deploy_is_clean_under_production(tmp_path):
    result = python(production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weak_setting(tmp_path):
    """The check above can fail: a short secret key is reported under the same command."""
    env = production_env(tmp_path, DJANGO_SECRET_KEY="short")
    result = python(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="webapp.settings.production")
    result = python(env, "-c", "import django; django.setup()")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_production_is_locked_down(tmp_path):
    result = python(
        production_env(tmp_path),
        "-c",
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        "s.ALLOWED_HOSTS]))",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True, True, True, True, ["plumbline.example.com"]]


@pytest.mark.parametrize("module", ["webapp.settings.local", "webapp.settings.production"])
def test_embedded_default_without_urls(tmp_path, module):
    extra = {"DJANGO_SETTINGS_MODULE": module}
    if module.endswith("production"):
        extra["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    loaded = load_settings(clean_env(tmp_path, **extra))
    var = tmp_path / "var"
    assert loaded["engine"] == "webapp.sqlite_backend"
    assert Path(loaded["name"]).parent == var
    assert "journal_mode=WAL" in loaded["init_command"]
    assert loaded["broker"] == "filesystem://"
    assert loaded["transport"]["polling_interval"] == 0.1
    assert Path(loaded["transport"]["data_folder_in"]).is_relative_to(var)
    assert loaded["results"].startswith("file://")
    assert loaded["artifacts"] == str(var / "artifacts")


def test_embedded_default_really_runs_sqlite_in_wal_mode(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="webapp.settings.local")
    result = python(
        env,
        "-c",
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "wal"
    database = tmp_path / "var" / "plumbline.sqlite3"
    assert sqlite3.connect(database).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgres_and_redis_when_urls_are_set(tmp_path):
    loaded = load_settings(
        clean_env(
            tmp_path,
            DJANGO_SETTINGS_MODULE="webapp.settings.local",
            DATABASE_URL="postgres://alice:pw@db.internal:6543/plumbline",
            REDIS_URL="redis://cache.internal:6380/2",
            ARTIFACTS_ROOT=str(tmp_path / "shared"),
        )
    )
    assert loaded["engine"] == "webapp.postgresql_backend"  # Django's, see webapp/postgresql_backend
    assert (loaded["host"], str(loaded["port"]), loaded["name"], loaded["user"]) == (
        "db.internal",
        "6543",
        "plumbline",
        "alice",
    )
    assert loaded["broker"] == loaded["results"] == "redis://cache.internal:6380/2"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["cache_location"] == "redis://cache.internal:6380/2"
    assert loaded["artifacts"] == str(tmp_path / "shared")
