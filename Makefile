# Thin wrappers. `make test` and `make demo` do all set-up on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install system-deps test lint demo bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

system-deps:
	./scripts/ensure-system-deps

lint: install
	$(BIN)/ruff check src simulators tests bench
	$(BIN)/ruff format --check src simulators tests bench
	$(BIN)/lint-imports --no-cache

test: install system-deps
	$(MAKE) lint
	$(BIN)/pytest

demo: install system-deps
	$(BIN)/step-platform demo $(ARGS)

bench: install
	$(BIN)/python bench/registry_bench.py
	$(BIN)/python bench/configs_bench.py
	$(BIN)/python bench/step_bench.py
	$(BIN)/python bench/watch_bench.py

clean:
	rm -rf $(VENV) .step-platform .pytest_cache .hypothesis
