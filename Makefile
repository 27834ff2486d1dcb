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
# Branch coverage of whatsapp_leads (pyproject.toml [tool.coverage]): make test measures both runs and
# prints the total; COV_FAIL_UNDER=<percent> makes a lower total fail (.ci/run sets the floor).
COV_FAIL_UNDER ?=
COV_ARGS := --cov --cov-append --cov-report=
# nox finds the interpreters of its matrix (Python 3.11 and 3.13) on PATH; pyenv's are added when present.
PYENV_BINS := $(wildcard /root/.pyenv/versions/3.11.*/bin /root/.pyenv/versions/3.13.*/bin)
NOX_PATH := $(subst $(eval) ,:,$(strip $(PYENV_BINS) $(PATH)))
NOX_ARGS ?=
# make run RUN_PORT=8001 when 8000 is taken.
RUN_PORT ?= 8000

.PHONY: help venv run test test-lane-sqlite test-lane-slow test-lane-postgres test-sqlite test-postgres coverage-erase coverage-report matrix bench lint typecheck api-check clean

help:
	@echo "make run    set everything up and start web + worker on the embedded default (SQLite, file broker)"
	@echo "make test   run the test suite on SQLite, then on PostgreSQL when reachable"
	@echo "make bench  webhook throughput vs a bare Django view, and leads/second per worker"
	@echo "make lint   ruff check, ruff format --check, mypy, lint-imports, makemigrations --check"
	@echo "make matrix the nox matrix: Python 3.11/3.13 x Django 5.2/6.0 x SQLite/PostgreSQL (NOX_ARGS=...)"
	@echo "make api-check  schemathesis against a live server: the REST API does what its OpenAPI schema says"

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
# run.py writes the .env itself (not the .env rule), so it can say truly whether it created one.
run: $(STAMP)
	RUN_PORT=$(RUN_PORT) $(PY) scripts/run.py --port $(RUN_PORT)

lint: venv typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=true DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run

# The django-stubs plugin loads the settings: DEBUG=true so no secret or .env is needed.
typecheck: venv
	DEBUG=true DATABASE_URL=sqlite:///:memory: $(VENV)/bin/mypy

# The suite on SQLite and on PostgreSQL, in three lanes side by side (make -j3): SQLite; the
# process-level tests (marked slow: real workers, servers, outages) on PostgreSQL, which mostly wait
# on their processes; the rest of PostgreSQL. Each lane has its own PostgreSQL database, Redis db
# and coverage file; the report combines them. Output is printed lane by lane (--output-sync).
TEST_POSTGRES_SLOW_URL ?= $(TEST_POSTGRES_URL)_slow
TEST_REDIS_SQLITE_URL ?= $(shell echo '$(TEST_REDIS_URL)' | sed -E 's|/[0-9]+$$|/6|')
TEST_REDIS_SLOW_URL ?= $(shell echo '$(TEST_REDIS_URL)' | sed -E 's|/[0-9]+$$|/14|')
PG_REACHABLE = $(PY) scripts/reachable.py $(PG_HOSTPORT) || [ "$$CI" = "true" ]

test: coverage-erase
	@$(MAKE) --no-print-directory -j3 --output-sync=recurse test-lane-sqlite test-lane-slow test-lane-postgres
	@$(MAKE) --no-print-directory coverage-report

test-lane-sqlite: venv
	@echo "== lane 1: tests on SQLite (embedded default) =="
	COVERAGE_FILE=.coverage.lane-sqlite DATABASE_URL=sqlite:///:memory: TEST_REDIS_URL=$(TEST_REDIS_SQLITE_URL) \
		$(PY) -m pytest -m "not postgres" $(COV_ARGS) $(PYTEST_ARGS)

test-lane-slow: venv
	@if $(PG_REACHABLE); then \
		echo "== lane 2: slow process tests on PostgreSQL ($(PG_HOSTPORT)) =="; \
		COVERAGE_FILE=.coverage.lane-slow DATABASE_URL=$(TEST_POSTGRES_SLOW_URL) TEST_REDIS_URL=$(TEST_REDIS_SLOW_URL) \
			$(PY) -m pytest -m slow $(COV_ARGS) $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL not reachable at $(PG_HOSTPORT): PostgreSQL tests skipped (set TEST_POSTGRES_URL) =="; \
	fi

test-lane-postgres: venv
	@if $(PG_REACHABLE); then \
		echo "== lane 3: tests on PostgreSQL ($(PG_HOSTPORT)), all but the slow process tests =="; \
		COVERAGE_FILE=.coverage.lane-postgres DATABASE_URL=$(TEST_POSTGRES_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
			$(PY) -m pytest -m "not slow" $(COV_ARGS) $(PYTEST_ARGS); \
	else \
		echo "== lane 3: PostgreSQL not reachable at $(PG_HOSTPORT): nothing to run =="; \
	fi

# One database at a time, as before the lanes (coverage goes to .coverage, reported by coverage-report).
test-sqlite: venv
	@echo "== tests on SQLite (embedded default) =="
	DATABASE_URL=sqlite:///:memory: TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -m "not postgres" $(COV_ARGS) $(PYTEST_ARGS)

test-postgres: venv
	@if $(PG_REACHABLE); then \
		echo "== tests on PostgreSQL ($(PG_HOSTPORT)) =="; \
		DATABASE_URL=$(TEST_POSTGRES_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(COV_ARGS) $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL not reachable at $(PG_HOSTPORT): PostgreSQL tests skipped (set TEST_POSTGRES_URL) =="; \
	fi

# The REST API against its own OpenAPI schema: gunicorn on a free port over a throwaway SQLite
# database, schemathesis for about API_CHECK_SECONDS, any failure fails. Needs no service.
# The coverage phase by default (every boundary value; about 3 minutes); API_CHECK_ARGS="--phases all"
# adds random fuzzing and stateful runs.
API_CHECK_SECONDS ?= 90
API_CHECK_ARGS ?=

api-check: venv
	$(PY) scripts/api_contract.py --max-time $(API_CHECK_SECONDS) $(API_CHECK_ARGS)

coverage-erase: venv
	@rm -f .coverage .coverage.*

coverage-report: venv
	@echo "== branch coverage of whatsapp_leads =="
	@if ls .coverage.* >/dev/null 2>&1; then $(VENV)/bin/coverage combine -q; fi
	$(VENV)/bin/coverage report $(if $(COV_FAIL_UNDER),--fail-under=$(COV_FAIL_UNDER))

# Every combination of the matrix (noxfile.py); NOX_ARGS="-t ci" runs the ones .ci/run adds to make test.
matrix: venv
	PATH="$(NOX_PATH)" TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/nox $(NOX_ARGS)

# Webhook intake vs a bare Django view, and leads/second of one worker, in one run on one server
# setup. Needs PostgreSQL and Redis; creates and drops its own database, uses its own Redis db.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wl_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/7
BENCH_ARGS ?=

bench: venv
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.campaign_stats --database-url $(BENCH_DATABASE_URL)_stats
	$(PY) -m bench.sending --database-url $(BENCH_DATABASE_URL)_send --redis-url $(BENCH_REDIS_URL)
	$(PY) -m bench.admin_pages --database-url $(BENCH_DATABASE_URL)_admin
	$(PY) -m bench.sla_backlog --database-url $(BENCH_DATABASE_URL)_sla

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis .mypy_cache .nox .coverage .coverage.* htmlcov
