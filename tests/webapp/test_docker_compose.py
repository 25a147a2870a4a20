"""docker-compose.yml and the Dockerfile agree with each other and with the code (no container engine runs here).

The file is parsed with PyYAML (anchors and merge keys resolved) and its ``${VAR:-default}`` interpolation is applied
the way Compose does, then the resulting environment is loaded by the real production settings in a subprocess.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REQUIRED_SERVICES = {"postgres", "redis", "web", "worker", "gpu-worker", "beat", "flower"}
DJANGO_SERVICES = {"web", "worker", "gpu-worker", "beat", "flower"}
REQUIRED_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "ARTIFACTS_ROOT",
    "DJANGO_SETTINGS_MODULE",
}
HEALTH_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|:\?|-|\?)(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: ``${X}``, ``${X:-default}``, ``${X:?error}`` and ``$$`` for a dollar."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == ":?" and not current:
            raise ValueError(f"{name}: {arg}")
        return current or ""

    return _VAR.sub(replace, value)


def command_args(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def test_required_services_exist(services):
    assert set(services) >= REQUIRED_SERVICES
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_django_services_are_exactly_those_running_django(services):
    runs_django = {
        name
        for name, service in services.items()
        if "command" in service and re.search(r"manage\.py|gunicorn|celery -A webapp", " ".join(command_args(service)))
    }
    assert runs_django == DJANGO_SERVICES


def test_every_django_service_has_the_same_environment(services):
    environments = {name: services[name]["environment"] for name in DJANGO_SERVICES}
    for name, env in environments.items():
        assert isinstance(env, dict), f"{name}: use a mapping for environment"
        assert set(env) >= REQUIRED_ENV, f"{name} lacks {REQUIRED_ENV - set(env)}"
    first = environments["web"]
    assert all(env == first for env in environments.values())
    assert first["DJANGO_SETTINGS_MODULE"] == "webapp.settings.production"
    assert interpolate(first["DJANGO_SECURE_SSL_REDIRECT"], {}) == "false"
    assert interpolate(first["DJANGO_DEBUG"], {}).lower() == "false"


def test_variables_are_read_by_the_settings(services):
    settings_text = "".join(p.read_text() for p in (REPO / "webapp" / "settings").glob("*.py"))
    for name in services["web"]["environment"]:
        assert name == "DJANGO_SETTINGS_MODULE" or f'"{name}"' in settings_text, f"{name} is not read by settings"


def test_secret_key_has_no_default(services):
    secret = services["web"]["environment"]["DJANGO_SECRET_KEY"]
    with pytest.raises(ValueError, match="DJANGO_SECRET_KEY"):
        interpolate(secret, {})
    assert interpolate(secret, {"DJANGO_SECRET_KEY": "s3cret"}) == "s3cret"


def test_urls_point_at_the_postgres_and_redis_services(services):
    env = services["web"]["environment"]
    db = urlparse(interpolate(env["DATABASE_URL"], {}))
    pg = services["postgres"]["environment"]
    assert db.scheme in ("postgres", "postgresql") and db.hostname == "postgres" and (db.port or 5432) == 5432
    assert db.path.lstrip("/") == pg["POSTGRES_DB"] and db.username == pg["POSTGRES_USER"]
    assert db.password == interpolate(pg["POSTGRES_PASSWORD"], {})
    secret = {"POSTGRES_PASSWORD": "changed"}
    assert urlparse(interpolate(env["DATABASE_URL"], secret)).password == interpolate(pg["POSTGRES_PASSWORD"], secret)
    redis = urlparse(interpolate(env["REDIS_URL"], {}))
    assert redis.scheme == "redis" and redis.hostname == "redis" and (redis.port or 6379) == 6379


def test_worker_queues(services):
    from webapp.celery import app

    declared = {queue.name for queue in app.conf.task_queues}
    worker = command_args(services["worker"])
    assert worker[:4] == ["celery", "-A", "webapp", "worker"]
    assert set(option(worker, "-Q", "--queues").split(",")) == {"default", "cpu"}
    gpu = command_args(services["gpu-worker"])
    assert gpu[:4] == ["celery", "-A", "webapp", "worker"]
    assert option(gpu, "-Q", "--queues") == "gpu"
    assert option(gpu, "--concurrency", "-c") == "1"
    assert option(gpu, "--prefetch-multiplier") == "1"
    assert {"default", "cpu", "gpu"} <= declared
    assert command_args(services["beat"])[:4] == ["celery", "-A", "webapp", "beat"]
    assert command_args(services["flower"])[:4] == ["celery", "-A", "webapp", "flower"]


def test_web_migrates_then_serves(services):
    args = command_args(services["web"])
    script = args[-1] if args[:2] == ["sh", "-c"] else " ".join(args)
    migrate, serve = script.split("&&")
    assert "manage.py migrate --noinput" in migrate
    assert serve.split()[:2] == ["gunicorn", "webapp.wsgi"]
    assert (REPO / "webapp" / "wsgi.py").exists()
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_gpu_reservation(services):
    devices = services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices)
    assert all("deploy" not in services[name] for name in DJANGO_SERVICES - {"gpu-worker"})


def test_artifacts_volume_is_shared_at_artifacts_root(compose, services):
    root = services["web"]["environment"]["ARTIFACTS_ROOT"]
    mounted_volume = set()
    for name in ("web", "worker", "gpu-worker"):
        mounts = [v.split(":") for v in services[name]["volumes"]]
        matching = [source for source, target, *_ in mounts if target == root]
        assert len(matching) == 1, f"{name} does not mount a volume at {root}"
        mounted_volume.add(matching[0])
    assert len(mounted_volume) == 1, "web and workers must mount the same volume"
    assert mounted_volume.pop() in compose["volumes"]


def test_depends_on_targets_exist_and_are_healthchecked(services):
    for name, service in services.items():
        deps = service.get("depends_on", {})
        for target, spec in deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps):
            assert target in services, f"{name} depends on unknown service {target}"
            assert target != name
            condition = spec.get("condition", "service_started")
            assert condition in HEALTH_CONDITIONS
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no healthcheck"
    for name in DJANGO_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy"
    for name in DJANGO_SERVICES - {"web"}:
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"  # migrations applied


def test_compose_environment_loads_in_production_settings(services, tmp_path):
    """The interpolated environment, handed to the real settings module, selects Postgres, Redis and /artifacts."""
    env = {k: interpolate(v, {"DJANGO_SECRET_KEY": "x" * 60}) for k, v in services["web"]["environment"].items()}
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'engine': s.DATABASES['default']['ENGINE'], 'host': s.DATABASES['default']['HOST'], "
        "'broker': s.CELERY_BROKER_URL, 'artifacts': str(s.ARTIFACTS_ROOT), 'redirect': s.SECURE_SSL_REDIRECT, "
        "'hosts': s.ALLOWED_HOSTS, 'debug': s.DEBUG}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**clean, **env, "PLUMBLINE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["engine"] == "webapp.postgresql_backend" and loaded["host"] == "postgres"
    assert loaded["broker"] == "redis://redis:6379/0"
    assert loaded["artifacts"] == env["ARTIFACTS_ROOT"]
    assert loaded["redirect"] is False and loaded["debug"] is False
    assert "127.0.0.1" in loaded["hosts"]


def test_dockerfile_matches(services):
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert 'pip install ".[train,deepspeed]"' in dockerfile  # the gpu-worker can run ZeRO jobs
    assert "collectstatic --noinput" in dockerfile
    assert f"ARTIFACTS_ROOT={services['web']['environment']['ARTIFACTS_ROOT']}" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=webapp.settings.production" in dockerfile
    assert all(services[name].get("build") == "." for name in DJANGO_SERVICES)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)
