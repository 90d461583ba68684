# Phonlap: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PHONLAP_DATABASE_URL ?= sqlite:///var/phonlap.db

.PHONY: run test test-sqlite test-pg lint translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

# Demo mode: the built-in secret key is allowed and demo accounts are made (see the README).
run: export PHONLAP_DEMO ?= 1
run: $(VENV)/.installed
	$(BIN)/phonlap migrate
	$(BIN)/phonlap seed --demo --if-empty
	$(BIN)/phonlap serve --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	@bash .ci/browser.sh
	@bash .ci/nginx.sh
	$(BIN)/python -m pytest

test-pg: $(VENV)/.dev
	bash .ci/postgres.sh $(MAKE) --no-print-directory test

lint: $(VENV)/.dev
	$(BIN)/ruff check app tests benchmarks
	$(BIN)/ruff format --check app tests benchmarks

translations: $(VENV)/.installed
	$(BIN)/phonlap translations

clean:
	rm -rf $(VENV) var .pytest_cache
