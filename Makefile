# Every install step lives here: a fresh machine needs only `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run test check lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Headless Chromium for the operator page's browser tests: Debian's chromium + chromium-driver,
# installed only when missing and only as root (elsewhere those tests skip and say why).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	    || echo "could not install Chromium: the browser tests will skip"; \
	  fi; \
	fi

run: install
	$(BIN)/sync-job sandbox $(RUN_ARGS)

# The suite mostly waits (real loopback servers, subprocesses, the soak's daemon), so it runs in
# TEST_WORKERS pytest-xdist processes, more than a 2-core machine has cores; `make test
# TEST_WORKERS=0` runs it in one process. loadgroup keeps tests marked with one xdist_group
# (the browser tests share one Chromium) on one worker.
TEST_WORKERS ?= 4

test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff format --check sync_job tests bench
	$(BIN)/ruff check sync_job tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format sync_job tests bench
	$(BIN)/ruff check --fix sync_job tests bench

check: lint test

# Every benchmark figure (about 25 minutes); `make bench BENCH_ARGS=--quick` for a smoke run.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) sandbox-state .pytest_cache .mypy_cache .ruff_cache
