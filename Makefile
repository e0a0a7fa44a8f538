# CSF Portal. `make run` starts the portal on demo data; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ENV := DEBUG=1 CSF_DEMO_MODE=1 CSF_REQUIRE_MFA=0

# Django 6.1 needs Python 3.12 or newer. Look on PATH, then in pyenv.
define find_python
for c in python3.13 python3.12 python3; do \
  p=$$(command -v $$c 2>/dev/null) || continue; \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; \
done; \
root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
for p in $$(ls -d $$root/versions/3.13* $$root/versions/3.12* 2>/dev/null | sort -rV); do \
  [ -x $$p/bin/python3 ] && { echo $$p/bin/python3; exit 0; }; \
done; exit 1
endef

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@if [ ! -x $(PY) ]; then \
	  py=$$($(find_python)) || { echo "CSF Portal needs Python 3.12 or newer, and none was found on PATH or in pyenv. Install Python 3.12+ (for example 'pyenv install 3.12') and run make again." >&2; exit 1; }; \
	  echo "Creating $(VENV) with $$py"; $$py -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/dist/portal.css: node_modules/.installed static/src/portal.scss static/src/portal.mjs
	mkdir -p static/dist/govuk/assets
	npx --no-install sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps static/src/portal.scss static/dist/portal.css
	cp static/src/portal.mjs static/dist/portal.mjs
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/dist/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets/images static/dist/govuk/assets/

.PHONY: install
install: $(VENV)/.installed static/dist/portal.css ## Create the virtual environment, install Python and npm packages, build assets

.PHONY: run
run: install ## Set up and serve the portal on demo data at http://127.0.0.1:8000
	$(DEMO_ENV) $(PY) manage.py migrate --no-input
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "REDIS_URL is set: starting a Celery worker with beat (the minutely document sweep) beside the portal"; \
	  mkdir -p var; \
	  $(DEMO_ENV) $(VENV)/bin/celery -A csf_portal worker --beat --loglevel=INFO \
	    --schedule var/celerybeat-schedule --logfile var/celery.log & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# One pytest-xdist worker a core; TEST_WORKERS=0 runs in this process alone.
TEST_WORKERS ?= auto

.PHONY: test
test: install ## Set up and run the whole test suite (SQLite unless DATABASE_URL is set)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# make bench: city-scale data in its own PostgreSQL database, served by gunicorn on
# production settings and loaded with wrk. The data is built once (minutes) and
# reused; BENCH_RESEED=1 drops the database and builds it again.
BENCH_SCALE ?= 100000
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= csf_bench
BENCH_ARGS ?=
BENCH_DATA := DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) CSF_MEDIA_ROOT=$(CURDIR)/var/bench-media
BENCH_ENV := $(BENCH_DATA) REDIS_URL=redis://127.0.0.1:6379/3 ALLOWED_HOSTS=127.0.0.1 \
  SECRET_KEY=benchmark-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
  CSF_TRUSTED_PROXY_COUNT=1 DJANGO_SETTINGS_MODULE=demo.settings_bench

.PHONY: bench
bench: install static/dist/portal.css ## Benchmark the main pages at city scale on PostgreSQL (writes bench/results.json)
	@command -v wrk >/dev/null || { echo "make bench needs wrk, the load generator: apt-get install wrk" >&2; exit 1; }
	@if [ -n "$(BENCH_RESEED)" ]; then psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE IF EXISTS "$(BENCH_DB)"'; fi
	@psql "$(BENCH_PG)/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" | grep -q 1 \
	  || { psql "$(BENCH_PG)/postgres" -qc 'CREATE DATABASE "$(BENCH_DB)"' \
	  && $(BENCH_DATA) $(DEMO_ENV) $(PY) manage.py migrate --no-input -v0 \
	  && $(BENCH_DATA) $(DEMO_ENV) $(PY) manage.py seed_demo --scale $(BENCH_SCALE) \
	  || { psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE "$(BENCH_DB)"'; exit 1; }; }
	$(BENCH_ENV) $(PY) manage.py bench $(BENCH_ARGS)

.PHONY: bench-pdf
bench-pdf: install ## Time the largest demo meeting pack in a warm process (writes bench/pdf.json)
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v0
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py bench_pdf

.PHONY: lint
lint: install ## ruff lint and format check, mypy type check, import layering (.importlinter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

.PHONY: format
format: install ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: migrations-check
migrations-check: install ## Fail when a model change has no migration
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

.PHONY: check-deploy
check-deploy: install ## Django's deployment checks with production variables
	SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '\n') ALLOWED_HOSTS=csf.example.org \
	  EMAIL_URL=smtp+tls://portal:mail-password@smtp.example.org:587 \
	  DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/var/check.sqlite3} \
	  $(PY) manage.py check --deploy --fail-level WARNING

.PHONY: lock
lock: ## Re-pin every Python dependency (runtime and dev) after changing pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' | sort -f > requirements.lock

.PHONY: clean
clean: ## Remove the local database, built assets and environments
	rm -rf $(VENV) node_modules static/dist staticfiles var
