# whatsapp_leads: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

# Tests use these when the services are reachable (the defaults on our machines).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/whatsapp_leads
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PG_HOSTPORT := $(shell echo '$(TEST_POSTGRES_URL)' | sed -E 's|^[a-z]+://([^@/]*@)?([^/:]+)(:([0-9]+))?.*|\2:\4|; s|:$$|:5432|')
PYTEST_ARGS ?=
# make run RUN_PORT=8001 when 8000 is taken.
RUN_PORT ?= 8000

.PHONY: help venv run test test-sqlite test-postgres bench lint migrations-check clean

help:
	@echo "make run    set everything up and start web + worker on the embedded default (SQLite, file broker)"
	@echo "make test   run the test suite on SQLite, then on PostgreSQL when reachable"
	@echo "make bench  webhook throughput vs a bare Django view, and leads/second per worker"
	@echo "make lint   ruff check and makemigrations --check"

# The venv, and a local .env (random secrets, DEBUG=true) so manage.py works after any make command.
venv: $(STAMP) .env

.env: | $(STAMP)
	$(PY) scripts/bootstrap_env.py

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# .env with fresh secrets (never overwritten), migrate, demo data, then web + worker (-B) until Ctrl-C.
run: venv
	RUN_PORT=$(RUN_PORT) $(PY) scripts/run.py --port $(RUN_PORT)

lint: venv
	$(VENV)/bin/ruff check .
	DEBUG=true DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run

test: test-sqlite test-postgres

test-sqlite: venv
	@echo "== tests on SQLite (embedded default) =="
	DATABASE_URL=sqlite:///:memory: TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -m "not postgres" $(PYTEST_ARGS)

test-postgres: venv
	@if $(PY) scripts/reachable.py $(PG_HOSTPORT) || [ "$$CI" = "true" ]; then \
		echo "== tests on PostgreSQL ($(PG_HOSTPORT)) =="; \
		DATABASE_URL=$(TEST_POSTGRES_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL not reachable at $(PG_HOSTPORT): PostgreSQL tests skipped (set TEST_POSTGRES_URL) =="; \
	fi

# Webhook intake vs a bare Django view, and leads/second of one worker, in one run on one server
# setup. Needs PostgreSQL and Redis; creates and drops its own database, uses its own Redis db.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wl_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/7
BENCH_ARGS ?=

bench: venv
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.campaign_stats --database-url $(BENCH_DATABASE_URL)_stats
	$(PY) -m bench.sending --database-url $(BENCH_DATABASE_URL)_send --redis-url $(BENCH_REDIS_URL)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
