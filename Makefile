# Thin wrappers. `make test` and `make demo` do all set-up on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install system-deps test lint demo bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

install: $(BIN)/.installed

system-deps:
	./scripts/ensure-system-deps

lint: install
	$(BIN)/ruff check src simulators tests bench
	$(BIN)/ruff format --check src simulators tests bench

test: install system-deps
	$(MAKE) lint
	$(BIN)/pytest
	$(BIN)/python bench/run.py --quick

demo: install system-deps
	$(BIN)/step-platform demo

bench: install system-deps
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .step-platform .pytest_cache .hypothesis
