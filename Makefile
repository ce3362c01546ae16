# Every install step lives here: a fresh machine needs only `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test check lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/sync-job sandbox

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff format --check sync_job tests
	$(BIN)/ruff check sync_job tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff format sync_job tests
	$(BIN)/ruff check --fix sync_job tests

check: lint test

clean:
	rm -rf $(VENV) sandbox-state .pytest_cache .mypy_cache .ruff_cache
