# Kiln developer commands. `make run` and `make test` do all the set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5001
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379

.PHONY: fuzz oracle install run migrate import test lint typecheck pytest services bench clean \
	pass-once pass-sqlite pass-sqlite-redis pass-postgres pass-pgvector-redis

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

migrate: install
	mkdir -p data
	$(BIN)/kiln migrate

import: migrate
	$(BIN)/kiln apps sync examples/apps --print-keys

run: import
	$(BIN)/kiln serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check app tests bench tools
	$(BIN)/ruff format --check app tests bench tools
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# Start the local PostgreSQL and Redis where they are down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "services did not come up"; exit 1

# In-process tests (engine, nodes, sandbox, units: no server, no database) run once. The
# HTTP contract suite (tests/api) runs on SQLite and PostgreSQL, each without and with Redis;
# PostgreSQL with Redis is a throw-away PostgreSQL 18 with pgvector (annotation vector search
# in the database), plain PostgreSQL without it is the machine's. The real-process tests
# (tests/test_*.py) run on SQLite and on both PostgreSQL passes; the CLI tests bring their own
# databases and run once. Two lanes run side by side (2 cores; the suite mostly waits), each
# with its own Redis databases: lane sqlite, lane postgres.
ONCE := tests/unit tests/engine tests/sandbox
OWN_DATABASES := tests/test_cli.py tests/test_knowledge_cli.py tests/test_trigger_cli.py
PYTEST := $(BIN)/pytest -q -p no:cacheprovider
HTTP_SUITE := $(PYTEST) $(addprefix --ignore=,$(ONCE))
# Multi-replica tests always use Redis (KILN_TEST_REPLICA_REDIS_URL); the suite itself only
# where KILN_TEST_REDIS_URL is set.
SQLITE_REPLICAS := KILN_TEST_REPLICA_REDIS_URL=$(REDIS)/14
POSTGRES_REPLICAS := KILN_TEST_REPLICA_REDIS_URL=$(REDIS)/12

pytest: install services
	$(MAKE) --no-print-directory -k -j2 --output-sync=target pass-sqlite-redis pass-pgvector-redis

pass-once: install
	$(PYTEST) $(ONCE)
pass-sqlite: pass-once services
	KILN_TEST_DATABASE=sqlite $(SQLITE_REPLICAS) $(HTTP_SUITE)
pass-sqlite-redis: pass-sqlite
	KILN_TEST_DATABASE=sqlite KILN_TEST_REDIS_URL=$(REDIS)/15 $(SQLITE_REPLICAS) $(PYTEST) tests/api
pass-postgres: install services
	KILN_TEST_DATABASE=$(PG_URL) $(POSTGRES_REPLICAS) $(HTTP_SUITE) $(addprefix --ignore=,$(OWN_DATABASES))
pass-pgvector-redis: pass-postgres
	KILN_TEST_DATABASE=pgvector KILN_TEST_REDIS_URL=$(REDIS)/13 $(POSTGRES_REPLICAS) $(HTTP_SUITE) $(addprefix --ignore=,$(OWN_DATABASES))

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench.stream_bench

fuzz: install services
	$(BIN)/python -m tests.fuzz.service_api
	$(BIN)/python -m tests.fuzz.service_api --postgres

# Dev only, by hand: rebuild the graph fixtures from tools/oracle/build_fixtures.py and run
# every case on graphon (Dify's extracted engine) to refresh tests/fixtures/graphs/golden/.
oracle:
	bash tools/oracle/setup.sh
	.venv-oracle/bin/python tools/oracle/build_fixtures.py
	.venv-oracle/bin/python tools/oracle/run_graphon.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
