# plumbline: `make demo` sets everything up and runs web + worker; `make test` runs the suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU torch by default (a GPU host installs its CUDA build first: TORCH_SPEC="torch==2.13.0" with its index).
TORCH_SPEC ?= torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install migrate demo seed web worker beat test test-fast lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[train,deepspeed,dev,eval]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

demo: seed
	@HOST=$(HOST) PORT=$(PORT) PY=$(PY) bash scripts/demo.sh

web: migrate
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(VENV)/bin/celery -A webapp worker -Q default,cpu -l info

beat: install
	$(VENV)/bin/celery -A webapp beat -l info

test: install
	$(VENV)/bin/pytest

test-fast: install
	$(VENV)/bin/pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	@echo "Each benchmark is a script in bench/ (figures and machine in docs/benchmarks.md), for example:"
	@ls bench/*.py | grep -v '/_' | sed 's/^/  $(VENV)\/bin\/python /'

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
