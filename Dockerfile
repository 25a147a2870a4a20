# plumbline: one image for web, workers, beat and flower (docker-compose.yml picks the command).
# The project's dependencies with the `train` and `deepspeed` extras are installed, so the gpu-worker can train
# (torch's Linux wheels bring CUDA); the code itself runs from /app, where templates and manage.py live beside it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=webapp.settings.production \
    ARTIFACTS_ROOT=/artifacts \
    PLUMBLINE_VAR_DIR=/app/var

RUN useradd --create-home --uid 1000 plumbline
WORKDIR /app

# Dependencies first, from pyproject.toml alone (with empty package stubs), so editing the source reuses this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p webapp annotation training evaluation \
    && touch webapp/__init__.py annotation/__init__.py training/__init__.py evaluation/__init__.py \
    && pip install ".[train,deepspeed]" "flower>=2.0" \
    && pip uninstall -y plumbline \
    && rm -rf webapp annotation training evaluation build ./*.egg-info

COPY . .
# collectstatic only reads settings; production refuses to start without a secret, so it gets a throwaway one.
RUN DJANGO_SECRET_KEY=collectstatic-only-never-used-at-runtime python manage.py collectstatic --noinput \
    && mkdir -p /artifacts /app/var \
    && chown -R plumbline:plumbline /artifacts /app/var

USER plumbline
EXPOSE 8000 5555
CMD ["gunicorn", "webapp.wsgi", "-b", "0.0.0.0:8000", "-w", "3"]
