"""Settings shared by every environment, read from the environment (12-factor).

Without DATABASE_URL / REDIS_URL the embedded default applies: SQLite in WAL mode and the kombu filesystem
transport, both under ``var/``, so a fresh clone runs with no servers at all.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PLUMBLINE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DJANGO_DEBUG=(bool, False),
    DJANGO_ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="plumbline-insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "webapp",
    "annotation",
    "training",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "webapp.middleware.LazyMessageMiddleware",  # Django's, with the storage built on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webapp.middleware.JsonErrorsForApiMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "plumbline.sqlite3"
_SQLITE_OPTIONS = {
    # IMMEDIATE makes every atomic block take the write lock up front, so concurrent writers queue on the busy
    # timeout instead of failing with "database is locked" when a read transaction tries to upgrade.
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;"
    ),
}
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
DATABASE_IS_SQLITE = DATABASES["default"]["ENGINE"] in ("django.db.backends.sqlite3", "webapp.sqlite_backend")
if DATABASE_IS_SQLITE:
    # Django's SQLite backend with writers queued on a lock that hands over at once (webapp/sqlite_backend).
    DATABASES["default"]["ENGINE"] = "webapp.sqlite_backend"
    DATABASES["default"].setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend, skipping the health check right after a good request (webapp/postgresql_backend).
    DATABASES["default"]["ENGINE"] = "webapp.postgresql_backend"
# Persistent connections on both backends. For SQLite too: a fresh connection per request re-runs the PRAGMAs,
# re-parses the schema and starts with a cold page cache, which doubled the CPU of an API request (bench/).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# PostgreSQL: the annotation hot paths' hand-written statements run as prepared statements (webapp/fastsql.py). Off
# behind a connection pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# PostgreSQL: no health-check round trip for a connection whose last request ended cleanly less than this many
# seconds ago (0: Django's check at every request).
DATABASE_HEALTH_CHECK_GRACE = env.float("DATABASE_HEALTH_CHECK_GRACE", default=1.0)
# PostgreSQL: a next-task request's lease commits without waiting for the WAL flush; a crash can forget the last
# fraction of a second of leases, never a judgment (annotation/services/assignment.py: task_assign_next).
ANNOTATION_LEASE_ASYNC_COMMIT = env.bool("ANNOTATION_LEASE_ASYNC_COMMIT", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, results, cache ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = Path(env.str("PLUMBLINE_BROKER_DIR", default=str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Long training tasks are acked late; the job heartbeat reaper (not redelivery) handles dead workers.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 3600}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = f"file://{BROKER_DIR / 'results'}"
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "annotation-expire-leases": {
        "task": "annotation.tasks.expire_leases",
        "schedule": timedelta(seconds=60),
    },
    "training-reap-stale-jobs": {
        "task": "training.tasks.reap_stale_jobs",
        "schedule": timedelta(seconds=30),
    },
    "evaluation-refresh-human-runs": {
        "task": "evaluation.tasks.refresh_waiting_runs",
        "schedule": timedelta(seconds=60),
    },
}
CELERY_TASK_ROUTES = {
    "annotation.tasks.*": {"queue": "default"},
}
# Jobs: the runner's context flushes progress/metrics and stamps a heartbeat this often; a running job whose
# heartbeat is older than JOB_STALE_SECONDS is requeued by beat (its worker died) and resumed elsewhere.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=2.0)
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=60)
JOB_CANCEL_GRACE_SECONDS = env.int("JOB_CANCEL_GRACE_SECONDS", default=120)
# A distributed run whose node fails (a rank crashed, a host vanished) restarts from its checkpoint this often.
JOB_MAX_RESTARTS = env.int("JOB_MAX_RESTARTS", default=2)
# Called (by dotted path) with the job after a job succeeds: training never imports evaluation.
JOB_SUCCESS_HOOKS = env.list("JOB_SUCCESS_HOOKS", default=["evaluation.services.evaluate_after_training"])
# The default suite run after every model-producing job ([] or "" turns it off).
EVALUATION_AUTO_SUITES = env.list("EVALUATION_AUTO_SUITES", default=["perplexity"])
EVALUATION_AUTO_LIMIT = env.int("EVALUATION_AUTO_LIMIT", default=200)

# --- storage ----------------------------------------------------------------------------------------------------
ARTIFACTS_ROOT = Path(env.str("ARTIFACTS_ROOT", default=str(VAR_DIR / "artifacts")))
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- auth -------------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotation:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- API --------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "webapp.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "webapp.throttling.AnonRateThrottle",
        "webapp.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="6000/min"),
    },
    "EXCEPTION_HANDLER": "webapp.api_errors.exception_handler",
    # ?format= selects the export file format (jsonl|parquet), not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "plumbline API",
    "DESCRIPTION": "Annotation, datasets, training jobs and evaluations for aligning language models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- annotation -------------------------------------------------------------------------------------------------
ANNOTATION_LEASE_SECONDS = env.int("ANNOTATION_LEASE_SECONDS", default=30 * 60)
ANNOTATION_IMPORT_MAX_LINE_BYTES = env.int("ANNOTATION_IMPORT_MAX_LINE_BYTES", default=1024 * 1024)
ANNOTATION_IMPORT_MAX_BYTES = env.int("ANNOTATION_IMPORT_MAX_BYTES", default=512 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
