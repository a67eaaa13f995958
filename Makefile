# jamhost: `make run` serves the embedded default with a demo jam; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the services part of the suite runs (the machine's shared PostgreSQL and Redis).
JAMHOST_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jamhost
JAMHOST_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
export JAMHOST_TEST_DATABASE_URL JAMHOST_TEST_REDIS_URL

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py demo
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py demo_networks
	DEBUG=$${DEBUG:-true} DEMO_REPLAY=$${DEMO_REPLAY:-true} $(BIN)/python -m jamhost.serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint
	$(BIN)/python -m tests.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/mypy jamhost testservers
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.fanout $(ARGS)

clean:
	rm -rf $(VENV) jamhost.sqlite3* staticfiles
