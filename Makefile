# Thin wrappers. `make test` and `make demo` do all set-up on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install system-deps docker images test lint demo bench clean

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

# A Docker engine for the container half of the integration tests (and `make images`):
# scripts/ensure-docker starts one when none answers and stops it when the run ends; one
# that was already running is left alone. STEP_STACK_BACKEND=local opts out (printed).
docker:
	./scripts/ensure-docker start

images: install docker
	$(BIN)/python -m step_platform.devstack.images

test: install system-deps
	$(MAKE) lint
	./scripts/ensure-docker start
	status=0; \
	  if [ "$${STEP_STACK_BACKEND:-}" != local ]; then $(BIN)/python -m step_platform.devstack.images || status=$$?; fi; \
	  [ $$status -ne 0 ] || $(BIN)/pytest || status=$$?; \
	  ./scripts/ensure-docker stop; exit $$status

demo: install system-deps
	$(BIN)/step-platform demo $(ARGS)

bench: install
	$(BIN)/python bench/registry_bench.py
	$(BIN)/python bench/configs_bench.py
	$(BIN)/python bench/step_bench.py

clean:
	rm -rf $(VENV) .step-platform .pytest_cache .hypothesis
